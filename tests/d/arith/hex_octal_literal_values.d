/* Hex and octal literals, upper-case hex digits and suffixes */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", 0XFF, 0777, 0x7fffffffffffffff, 00);
	printf("%d %d %d\n", 10U, 10L, 0x10ULL);
	exit(0);
}
