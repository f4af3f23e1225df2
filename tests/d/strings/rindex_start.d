/* rindex( ) from a start position */
#pragma D option quiet

BEGIN
{
	printf("%d\n", rindex("foobazbarbaz", "baz", 8));
	printf("%d\n", rindex("foobazbarbaz", "baz", 9));
	printf("%d\n", rindex("foobazbarbaz", "baz", 2));
	printf("%d\n", rindex("foobazbarbaz", "baz", -1));
	exit(0);
}
