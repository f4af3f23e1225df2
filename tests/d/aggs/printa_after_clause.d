#pragma D option quiet
BEGIN
{
	@c = count();
	printa("first %@d\n", @c);
	@c = count();
	printa("second %@d\n", @c);
	exit(0);
}
