#pragma D option quiet
BEGIN
{
	x = 10;
	@["t"] = sum(x * 3);
	@["t"] = sum(x);
	exit(0);
}
