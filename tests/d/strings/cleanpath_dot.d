/* cleanpath( ) drops "/./" but keeps a trailing "/." */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", cleanpath("/a/./b/."));
	exit(0);
}
