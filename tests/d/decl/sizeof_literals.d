/*
 * An integer literal's type: decimal int, long; hex int, unsigned int,
 * long; suffixes u and l; a character constant is an int.
 */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", sizeof (2147483647), sizeof (2147483648),
	    sizeof (0x80000000), sizeof (0x100000000));
	printf("%d %d %d %d\n", sizeof (1u), sizeof (1l), sizeof (1ull), sizeof ('a'));
	printf("%d %d\n", 0x80000000, 0xffffffffu + 1);
	exit(0);
}
