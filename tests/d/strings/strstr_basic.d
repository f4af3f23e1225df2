/* strstr( ): the suffix from the first occurrence; not found is NULL, printed as "" here */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strstr("foobarbaz", "bar"));
	printf("[%s]\n", strstr("foobarbaz", "ba"));
	printf("[%s]\n", strstr("abc", "x"));
	printf("[%s]\n", strstr("abc", ""));
	exit(0);
}
