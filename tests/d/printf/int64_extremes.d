/* The extreme 64-bit values in %d %u %x */
#pragma D option quiet

BEGIN
{
	printf("%d %d\n", 9223372036854775807, -9223372036854775807 - 1);
	printf("%u %x\n", (uint64_t)-1, (uint64_t)-1);
	exit(0);
}
