/* index( ) with needles longer than 8 bytes */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("the quick brown fox jumps over", "brown fox jumps"));
	printf("%d\n", index("the quick brown fox jumps over", "brown fox jumpz"));
	printf("%d\n", index("aaaaaaaaaaaaaaaaaab", "aaaaaaaaab"));
	printf("%d\n", index("0123456789abcdef0123456789abcdefX", "0123456789abcdefX"));
	exit(0);
}
