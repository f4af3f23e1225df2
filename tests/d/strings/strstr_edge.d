/* strstr( ) of empty strings and whole-string matches */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strstr("", ""));
	printf("[%s]\n", strstr("abc", "abc"));
	printf("[%s]\n", strstr("abc", "abcd"));
	printf("[%s]\n", strstr("", "a"));
	exit(0);
}
