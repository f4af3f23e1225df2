/* aggsortkey sorts integer keys numerically, whatever the values */
#pragma D option aggsortkey
#pragma D option quiet

BEGIN
{
	@[3] = sum(1);
	@[1] = sum(5);
	@[2] = sum(0);
	exit(0);
}
