#pragma D option quiet
BEGIN
{
	x = (uint64_t)-8; y = 3;
	printf("%u %u\n", x / y, x % y);
	exit(0);
}
