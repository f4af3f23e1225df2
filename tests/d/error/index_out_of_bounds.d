/* A variable index past a D array's end faults: index out of bounds */
#pragma D option quiet

int a[4];

BEGIN
{
	i = 5;
	trace(a[i]);
	printf("not reached\n");
}

ERROR
{
	printf("fault %d value %d\n", arg4, arg5);
}

BEGIN
{
	exit(0);
}
