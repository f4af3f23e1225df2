#pragma D option quiet
BEGIN
{
	@["a"] = sum(1); @["b"] = sum(2);
	clear(@);
	@["b"] = sum(7);
	exit(0);
}
