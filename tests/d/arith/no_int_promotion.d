/*
 * D's usual arithmetic conversions have no promotion to int: char + char
 * is a char, uint8_t + uint8_t a uint8_t; with an int operand the result
 * is an int.
 */
#pragma D option quiet

BEGIN
{
	c = (char)127;
	d = (char)1;
	u = (uint8_t)200;
	v = (uint8_t)100;
	printf("%d %d %d\n", c + d, u + v, u + 100);
	printf("%d %d %d\n", sizeof (c + d), sizeof (u + v), sizeof (u + 100));
	exit(0);
}
