/* index( ): first occurrence, or -1 */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("foobarbaz", "bar"));
	printf("%d\n", index("foobarbaz", "baz"));
	printf("%d\n", index("foo", "bar"));
	printf("%d\n", index("SMT", "SMT"));
	exit(0);
}
