#pragma D option aggsortkey
#pragma D option quiet
BEGIN
{
	@["b"] = sum(1); @["a"] = sum(2); @["c"] = sum(0);
	exit(0);
}
