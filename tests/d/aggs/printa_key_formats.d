/* printa( ) formats the keys with their own conversions, then the value */
#pragma D option quiet

BEGIN
{
	@["x", 3] = sum(7);
	@["yy", 12] = sum(-1);
	printa("%-4s|%3d|%@4d|\n", @);
	exit(0);
}
