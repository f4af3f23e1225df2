/* Who wakes threads up, who sleeps, and who switches to whom. */
sched:::wakeup
{
	@wakers[execname] = count();
}

sched:::sleep
{
	@sleepers[execname] = count();
}

sdt:sched::sched_switch
/args[1] != 0/
{
	@switches[stringof(args[0]), stringof(args[4])] = count();
}

tick-10s
{
	exit(0);
}
