#pragma D option quiet
BEGIN
{
	x = (uint64_t)1 << 63;
	printf("%u %x\n", x, x >> 4);
	exit(0);
}
