/* A fault abandons its clause, printf( )s before it included */
#pragma D option quiet

BEGIN
{
	printf("before\n");
	z = 0;
	x = 1 % z;
	printf("after\n");
}

BEGIN
{
	printf("next\n");
	exit(0);
}
