#pragma D option quiet
BEGIN
{
	@["zeta"] = count(); @["alpha"] = count(); @["mid"] = count();
	exit(0);
}
