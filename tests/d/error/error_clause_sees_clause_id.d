/* ERROR's arg2 names the faulting statement: the second clause here */
#pragma D option quiet

BEGIN
{
	printf("first\n");
}

BEGIN
{
	z = 0;
	x = 5 / z;
}

ERROR
{
	printf("statement %d fault %d\n", arg2, arg4);
}

BEGIN
{
	exit(0);
}
