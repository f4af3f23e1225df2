/* A library constant as an aggregation key is a 4-byte int key */
#pragma D option quiet

BEGIN
{
	@sig[SIGTERM] = count();
	@sig[SIGKILL] = count();
	@sig[SIGTERM] = count();
	exit(0);
}
