/* strtoll( ) wraps on overflow */
#pragma D option quiet

BEGIN
{
	printf("%d\n", strtoll("9223372036854775807"));
	printf("%d\n", strtoll("9223372036854775808"));
	printf("%d\n", strtoll("-9223372036854775808"));
	printf("%d\n", strtoll("18446744073709551617"));
	exit(0);
}
