/* cleanpath( ) keeps names that only begin with dots */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", cleanpath("/a/..b/.c"));
	exit(0);
}
