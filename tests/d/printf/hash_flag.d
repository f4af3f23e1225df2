/* The # flag: 0x/0X prefixes and a leading octal 0, none for zero */
#pragma D option quiet

BEGIN
{
	printf("%#x %#X %#o %#x %#o\n", 255, 255, 8, 0, 0);
	exit(0);
}
