/* Per-process syscall latency, log-linear buckets, keyed by syscall. */
syscall:::entry
{
	self->ts[probefunc] = timestamp;
}

syscall:::return
/self->ts[probefunc]/
{
	@lat[execname, probefunc] = llquantize(timestamp - self->ts[probefunc], 10, 3, 9, 10);
	self->ts[probefunc] = 0;
}
