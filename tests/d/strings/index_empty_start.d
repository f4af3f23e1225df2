/* index( ) of "" from a position */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("abc", "", 1));
	printf("%d\n", index("abc", "", -2));
	printf("%d\n", index("", "", 7));
	printf("%d\n", index("abc", "", 3));
	exit(0);
}
