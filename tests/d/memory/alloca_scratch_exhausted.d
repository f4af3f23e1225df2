/* More alloca( ) than scratchsize (256) faults: out of scratch space */
#pragma D option quiet

BEGIN
{
	a = alloca(200);
	b = alloca(100);
	printf("not reached\n");
}

ERROR
{
	printf("fault %d %d\n", arg4, arg4 == DTRACEFLT_NOSCRATCH);
}

BEGIN
{
	exit(0);
}
