/* string comparisons are bytewise, as strcmp( ) */
#pragma D option quiet

BEGIN
{
	printf("%d\n", "a" < "b");
	printf("%d\n", "abc" == "abc");
	printf("%d\n", "abc" != "abd");
	printf("%d\n", "b" > "abc");
	printf("%d\n", "" < "a");
	printf("%d\n", "ab" <= "ab");
	printf("%d\n", "ab" >= "abc");
	printf("%d\n", strjoin("ab", "c") == "abc");
	printf("%d\n", toupper("a") < "a");
	exit(0);
}
