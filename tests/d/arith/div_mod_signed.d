#pragma D option quiet
BEGIN
{
	x = -7; y = 2; z = -2;
	printf("%d %d %d %d\n", x / y, x % y, 7 / z, 7 % z);
	exit(0);
}
