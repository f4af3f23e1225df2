#pragma D option quiet
BEGIN
{
	x = 1099511627776;
	printf("%ld %lld %lu %lx %i\n", x, x, x, x, 12);
	exit(0);
}
