/* index( ) with empty strings (Perl semantics) */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("", ""));
	printf("%d\n", index("abc", ""));
	printf("%d\n", index("abc", "", 5));
	printf("%d\n", index("", "a"));
	exit(0);
}
