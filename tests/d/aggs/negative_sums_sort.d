#pragma D option quiet
BEGIN
{
	@["a"] = sum(-5); @["b"] = sum(3); @["c"] = sum(-10);
	exit(0);
}
