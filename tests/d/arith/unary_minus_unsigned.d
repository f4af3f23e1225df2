/* Negating an unsigned value stays unsigned */
#pragma D option quiet

BEGIN
{
	u = 1u;
	l = (uint64_t)1;
	printf("%d %d %d\n", -u, -l, sizeof (-u));
	exit(0);
}
