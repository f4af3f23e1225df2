/* rindex( ) with empty strings (Perl semantics) */
#pragma D option quiet

BEGIN
{
	printf("%d\n", rindex("abc", ""));
	printf("%d\n", rindex("abc", "", 1));
	printf("%d\n", rindex("abc", "", 10));
	printf("%d\n", rindex("abc", "", -1));
	exit(0);
}
