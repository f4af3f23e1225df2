/* cleanpath( ) backs up past the start of a relative path (dtrace.c gives "/b") */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", cleanpath("a/../b"));
	exit(0);
}
