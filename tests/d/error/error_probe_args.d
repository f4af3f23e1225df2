#pragma D option quiet
BEGIN
{
	p = (long *)0x1000;
	x = *p;
}

ERROR
{
	printf("probe %d statement %d fault %d addr %x\n", arg1, arg2, arg4, arg5);
}

BEGIN
{
	exit(0);
}
