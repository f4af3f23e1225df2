/* strlen( ): bytes before the NUL */
#pragma D option quiet

BEGIN
{
	printf("%d\n", strlen(""));
	printf("%d\n", strlen("abc"));
	printf("%d\n", strlen(strjoin("abc", "defg")));
	printf("%d\n", strlen("a b\tc"));
	exit(0);
}
