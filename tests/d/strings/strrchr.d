/* strrchr( ): the suffix from the last c */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strrchr("hello", 'l'));
	printf("[%s]\n", strrchr("hello", 'h'));
	printf("[%s]\n", strrchr("a/b/c", '/'));
	printf("[%s]\n", strrchr("hello", 'z'));
	printf("[%s]\n", strrchr("hello", 0));
	exit(0);
}
