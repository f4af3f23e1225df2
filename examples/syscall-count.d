#!/usr/sbin/dtrace -s
/*
 * syscall-count.d: count system calls by process name until Ctrl-C.
 */
#pragma D option quiet

syscall:::entry
{
	@calls[execname] = count();
}

END
{
	printf("%-32s %8s\n", "PROCESS", "CALLS");
	printa("%-32s %@8d\n", @calls);
}
