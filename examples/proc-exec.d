/* New programs as they start, and how many processes of each name exit. */
#pragma D option quiet

proc:::exec-success
{
	printf("%Y %6d %s\n", walltimestamp, pid, execname);
}

proc:::exit
{
	@exits[execname] = count();
}
