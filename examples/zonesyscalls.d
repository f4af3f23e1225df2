/* System calls per zone and call, until Ctrl-C (or `-n 'tick-10s { exit(0); }'`). */
#pragma D option quiet

syscall:::entry
{
	@[zonename, probefunc] = count();
}

END
{
	printa("%-40s %-20s %@10d\n", @);
}
