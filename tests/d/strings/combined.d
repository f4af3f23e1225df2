/* several string functions in one clause */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strjoin(substr("hello world", 6), toupper(substr("hello", 0, 1))));
	printf("[%s]\n", lltostr(strtoll("0x7f", 16) + 1, 16));
	printf("[%s]\n", basename(dirname("/usr/lib/libc.so")));
	printf("[%s]\n", strchr(lltostr(1234567), '4'));
	exit(0);
}
