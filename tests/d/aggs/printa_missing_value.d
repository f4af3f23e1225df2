/*
 * printa( ) of two aggregations: a key one lacks shows 0 for it; ties on
 * the first value are broken by the second value before the keys.
 */
#pragma D option quiet

BEGIN
{
	@a["x"] = count();
	@a["y"] = count();
	@b["x"] = sum(5);
	printa("%s %@d %@d\n", @a, @b);
	exit(0);
}
