/* Division with a uint64_t operand is unsigned */
#pragma D option quiet

BEGIN
{
	x = (uint64_t)-8;
	y = -8;
	printf("%d %d %d\n", x / 2, y / 2, x % 3);
	exit(0);
}
