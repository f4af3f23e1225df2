/* Who opens which files: copyinstr() of the path argument. */
#pragma D option quiet

syscall::openat:entry
{
	printf("%-16s %6d %s\n", execname, pid, copyinstr(arg1));
}
