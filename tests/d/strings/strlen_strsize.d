/* strlen( ) of a string cut to strsize - 1 */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("%d\n", strlen("0123456789abcdefghij"));
	printf("%d\n", strlen("short"));
	exit(0);
}
