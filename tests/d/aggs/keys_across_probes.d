/* One aggregation fed from BEGIN and END, keyed by probename */
#pragma D option quiet

BEGIN
{
	@[probename] = count();
	exit(0);
}

END
{
	@[probename] = count();
	@[probename] = count();
}
