/* cleanpath( ) squeezes repeated slashes, keeps a trailing one */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", cleanpath("//a///b//"));
	exit(0);
}
