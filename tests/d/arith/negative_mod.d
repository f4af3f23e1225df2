#pragma D option quiet
BEGIN
{
	x = -9; y = 4;
	printf("%d %d\n", x % y, x / y);
	exit(0);
}
