#pragma D option quiet
/* copyin() of unmapped memory faults at the address it was given. */
BEGIN
{
	p = (int *)copyin(4096, 4);
	printf("not reached %d\n", *p);
}

ERROR
{
	printf("fault %d at %x\n", arg4, arg5);
}

BEGIN
{
	exit(0);
}
