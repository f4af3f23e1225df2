/* read(2) latency per zone, in nanoseconds. */
syscall::read:entry
{
	self->ts = timestamp;
}

syscall::read:return
/self->ts/
{
	@[zonename] = quantize(timestamp - self->ts);
	self->ts = 0;
}
