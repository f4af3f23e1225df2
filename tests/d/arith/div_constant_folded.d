#pragma D option quiet
BEGIN
{
	printf("%d %d %d\n", -7 / 2, -7 % 2, 100 / 7);
	exit(0);
}
