#pragma D option quiet
BEGIN
{
	@a["x"] = count(); @b["x"] = sum(10); @a["y"] = count(); @b["y"] = sum(20);
	printa("%s %@d %@d\n", @a, @b);
	exit(0);
}
