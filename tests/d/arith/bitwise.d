#pragma D option quiet
BEGIN
{
	x = 0xf0; y = 0x3c;
	printf("%d %d %d %d\n", x & y, x | y, x ^ y, ~0);
	exit(0);
}
