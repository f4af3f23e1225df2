/* lltostr( ) cut to strsize - 1 */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("[%s]\n", lltostr(-1, 2));
	printf("[%s]\n", lltostr(12345, 10));
	printf("[%s]\n", lltostr(-1, 16));
	exit(0);
}
