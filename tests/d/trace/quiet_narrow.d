/* trace( ) of 1- and 2-byte values under -q: no width, by their sign */
#pragma D option quiet

BEGIN
{
	trace((char)-1);
	printf("|");
	trace((uint8_t)255);
	printf("|");
	trace((short)-2);
	printf("|");
	trace((uint16_t)65535);
	printf("|");
	trace((uint64_t)-1);
	printf("\n");
	exit(0);
}
