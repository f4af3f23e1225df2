/* Count syscalls per pid and syscall name, print the top of the table. */
syscall:::entry
/pid != $pid/
{
	@[pid, probefunc] = count();
}

tick-5s
{
	trunc(@, 10);
	printa(@);
	exit(0);
}
