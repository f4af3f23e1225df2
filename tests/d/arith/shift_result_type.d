/* A shift has its left operand's type: uint8_t << 4 is a uint8_t */
#pragma D option quiet

BEGIN
{
	b = (uint8_t)0x81;
	i = 1;
	printf("%d %d %d\n", b << 4, sizeof (b << 4), sizeof (i << b));
	exit(0);
}
