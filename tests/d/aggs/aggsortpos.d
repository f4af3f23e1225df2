/* aggsortpos=1: printa( ) of two aggregations sorts on the second */
#pragma D option aggsortpos=1
#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@a["x"] = count();
	@a["y"] = count();
	@b["x"] = sum(1);
	@b["y"] = sum(9);
	printa("%s %@d %@d\n", @a, @b);
	exit(0);
}
