/* rindex( ): last occurrence, or -1 */
#pragma D option quiet

BEGIN
{
	printf("%d\n", rindex("foobarbazbam", "baz"));
	printf("%d\n", rindex("foobarbaz", "a"));
	printf("%d\n", rindex("foo", "bar"));
	printf("%d\n", rindex("aaa", "aa"));
	exit(0);
}
