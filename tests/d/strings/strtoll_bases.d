/* strtoll( ) with a base; 0x is skipped in base 16 before a hex digit */
#pragma D option quiet

BEGIN
{
	printf("%d\n", strtoll("ff", 16));
	printf("%d\n", strtoll("0x1F", 16));
	printf("%d\n", strtoll("0x", 16));
	printf("%d\n", strtoll("0xg", 16));
	printf("%d\n", strtoll("777", 8));
	printf("%d\n", strtoll("z", 36));
	printf("%d\n", strtoll("101", 2));
	printf("%d\n", strtoll("129", 8));
	printf("%d\n", strtoll("-0x10", 16));
	printf("%d\n", strtoll("0x10", 10));
	exit(0);
}
