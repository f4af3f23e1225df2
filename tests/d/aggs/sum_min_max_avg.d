#pragma D option quiet
BEGIN
{
	@s = sum(1); @s = sum(2); @s = sum(4);
	@mn = min(4); @mn = min(1); @mn = min(2);
	@mx = max(1); @mx = max(4); @mx = max(2);
	@av = avg(1); @av = avg(2); @av = avg(4);
	exit(0);
}
