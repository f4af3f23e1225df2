#pragma D option quiet
BEGIN
{
	x = (int64_t)1; y = -16; z = (uint64_t)-16; i = 1;
	printf("%d %d %u %d\n", x << 40, y >> 2, z >> 60, i << 40);
	exit(0);
}
