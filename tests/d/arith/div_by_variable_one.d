#pragma D option quiet
BEGIN
{
	x = 1234567; y = 1;
	printf("%d %d\n", x / y, x % y);
	exit(0);
}
