#pragma D option quiet
BEGIN
{
	@c["k"] = sum(7);
	printa(@c);
	exit(0);
}
