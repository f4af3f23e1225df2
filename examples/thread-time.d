/* Thread-local timing: time spent in nanosleep(2), per process, in microseconds. */
syscall::nanosleep:entry
{
	self->start = timestamp;
}

syscall::nanosleep:return
/self->start != 0/
{
	this->us = (timestamp - self->start) / 1000;
	@sleep_us[execname] = lquantize(this->us, 0, 10000, 500);
	@total[execname] = sum(this->us);
	self->start = 0;
}
