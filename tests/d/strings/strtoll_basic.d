/* strtoll( ) in base 10: blanks, sign, digits up to the first other byte */
#pragma D option quiet

BEGIN
{
	printf("%d\n", strtoll("123"));
	printf("%d\n", strtoll("-42"));
	printf("%d\n", strtoll("+7"));
	printf("%d\n", strtoll(" \t 9"));
	printf("%d\n", strtoll("12abc"));
	printf("%d\n", strtoll("abc"));
	printf("%d\n", strtoll(""));
	printf("%d\n", strtoll("- 5"));
	printf("%d\n", strtoll("\0125"));
	exit(0);
}
