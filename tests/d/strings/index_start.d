/* index( ) from a start position (negative clamps to 0) */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("music", "sic", 1));
	printf("%d\n", index("music", "sic", 2));
	printf("%d\n", index("music", "sic", 3));
	printf("%d\n", index("music", "sic", -1));
	exit(0);
}
