/* index( ) with very negative and past-the-end positions */
#pragma D option quiet

BEGIN
{
	printf("%d\n", index("foo", "foo", -400));
	printf("%d\n", index("foobarbaz", "barbaz", -6));
	printf("%d\n", index("foo", "o", 3));
	printf("%d\n", index("foo", "o", 2));
	exit(0);
}
