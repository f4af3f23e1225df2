#pragma D option quiet

/* printa's @ may stand after the width: %8@d as %@8d. */
BEGIN
{
	@a = count();
	@b[1] = sum(5);
	printa("[%8@d]\n", @a);
	printa("[%d %-6@d]\n", @b);
	printa("[%@8d]\n", @a);
	exit(0);
}
