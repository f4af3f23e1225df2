#pragma D option quiet
BEGIN
{
	x = (int64_t)-1; i = -1;
	printf("%u %x %u %x\n", x, x, i, i);
	exit(0);
}
