/* rindex( ) with a needle longer than 8 bytes */
#pragma D option quiet

BEGIN
{
	printf("%d\n", rindex("abcdefghijk-abcdefghijk-abcdefghijk", "abcdefghijk"));
	printf("%d\n", rindex("abcdefghijk-abcdefghijk", "abcdefghijk", 11));
	printf("%d\n", rindex("", ""));
	printf("%d\n", rindex("x", "xx"));
	exit(0);
}
