/* index( ) and strstr( ) on strings cut to strsize - 1 */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("%d\n", index("0123456789abcdefXYZ", "f"));
	printf("%d\n", index("0123456789abcdefXYZ", "e"));
	printf("[%s]\n", strstr("0123456789abcdefXYZ", "cd"));
	printf("%d\n", rindex("aaaaaaaaaaaaaaaaaaaa", "a"));
	exit(0);
}
