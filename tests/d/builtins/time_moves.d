#pragma D option quiet
BEGIN
{
	a = timestamp;
	b = timestamp;
	printf("%d %d %d\n", a > 0, b >= a, walltimestamp > 1700000000000000000);
	exit(0);
}
