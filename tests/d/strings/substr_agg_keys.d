/* Aggregation keys from string functions group equal strings */
#pragma D option quiet

BEGIN
{
	@[substr("alpha", 0, 2)] = count();
	@[substr("almond", 0, 2)] = count();
	@[toupper("be")] = count();
	exit(0);
}
