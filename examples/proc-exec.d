/* New programs as they start, and how processes exit. */
#pragma D option quiet

proc:::exec-success
{
	printf("%Y %6d %6d %s\n", walltimestamp, pid, ppid, execname);
}

proc:::exit
{
	@exits[execname, args[0]] = count();
}
