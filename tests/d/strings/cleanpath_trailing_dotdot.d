/* cleanpath( ) on a trailing "/.." leaves the slash */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", cleanpath("/a/b/.."));
	exit(0);
}
