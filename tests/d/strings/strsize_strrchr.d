/* args: -x strsize=16 */
/* strrchr( ) and strchr( ) search only the first strsize - 1 bytes */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strrchr("abcdabcdabcdabXc", 'c'));
	printf("[%s]\n", strchr("abcdefghijklmnopqrs", 'p'));
	exit(0);
}
