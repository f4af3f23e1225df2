/* Who wakes whom: sched:::wakeup by waker and wakee. */
sched:::wakeup
{
	@[execname, args[0]] = count();
}

sdt:sched::sched_switch
/args[1] != 0/
{
	@switches[stringof(args[0])] = count();
}

tick-10s
{
	exit(0);
}
