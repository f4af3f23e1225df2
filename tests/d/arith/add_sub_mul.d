#pragma D option quiet
BEGIN
{
	x = 2; y = 3;
	printf("%d %d %d\n", x + y, 10 - 25, x * 21);
	exit(0);
}
