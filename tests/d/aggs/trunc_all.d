#pragma D option quiet
BEGIN
{
	@["a"] = sum(1); @["b"] = sum(2);
	trunc(@);
	@["c"] = sum(5);
	exit(0);
}
