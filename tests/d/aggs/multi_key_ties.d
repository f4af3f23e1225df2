/* Equal values sort by the keys in order: string first, then int */
#pragma D option quiet

BEGIN
{
	@["b", 1] = count();
	@["a", 2] = count();
	@["a", 1] = count();
	exit(0);
}
