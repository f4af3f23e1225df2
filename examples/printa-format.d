/* printa formatting: several aggregations joined on the same keys. */
#pragma D option quiet
#pragma D option aggsortkey

syscall::read:return,
syscall::write:return
/arg0 > 0/
{
	@bytes[execname, probefunc] = sum(arg0);
	@calls[execname, probefunc] = count();
	@avgsz[execname, probefunc] = avg(arg0);
	@maxsz[execname, probefunc] = max(arg0);
}

END
{
	printf("%-20s %-6s %12s %8s %8s %8s\n", "EXEC", "CALL", "BYTES", "CALLS", "AVG", "MAX");
	printa("%-20s %-6s %@12d %@8d %@8d %@8d\n", @bytes, @calls, @avgsz, @maxsz);
}
