/*
 * readlat-zone.d: read(2) latency distribution per zone.
 */
syscall::read:entry
{
	self->ts = timestamp;
}

syscall::read:return
/self->ts/
{
	@lat[zonename] = quantize(timestamp - self->ts);
	self->ts = 0;
}
