/*
 * Failed system calls by program, call and errno, as in the DTrace
 * Guide: the errno built-in is set on syscall return probes.
 */
#pragma D option quiet

syscall:::return
/errno != 0/
{
	@errs[execname, probefunc, errno] = count();
}

END
{
	printf("%-16s %-16s %5s %8s\n", "PROGRAM", "SYSCALL", "ERRNO", "COUNT");
	printa("%-16s %-16s %5d %@8d\n", @errs);
}
