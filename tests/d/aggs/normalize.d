#pragma D option quiet
BEGIN
{
	@["a"] = sum(100); @["b"] = sum(250);
	normalize(@, 10);
	exit(0);
}
