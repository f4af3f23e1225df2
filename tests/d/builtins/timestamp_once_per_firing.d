#pragma D option quiet

/*
 * timestamp is read once per firing: every read in every clause on the
 * probe gives the same time.
 */
BEGIN
{
	a = timestamp;
	b = timestamp;
}

BEGIN
{
	printf("%d %d %d\n", b - a, timestamp - a, a > 0);
	exit(0);
}
