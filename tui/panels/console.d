/*
 * The D console: edit this script and run it with Ctrl-R (or F5).
 * Aggregations show live: tables for count, sum, avg, min and max, bars
 * for quantize, lquantize and llquantize; printf output and errors below.
 */

syscall::read:entry
{
	self->ts = timestamp;
}

syscall::read:return
/self->ts/
{
	@reads[execname] = count();
	@bytes[execname] = sum(arg0 > 0 ? arg0 : 0);
	@latency["read(2) ns"] = quantize(timestamp - self->ts);
	self->ts = 0;
}
