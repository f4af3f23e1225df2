/*
 * Time a process spends in read(2) and write(2): calls, total and
 * distribution, from entry to return per thread (DTrace Guide, rwtime.d).
 * Run with -c CMD or -p PID.
 */
#pragma D option quiet

syscall::read:entry,
syscall::write:entry
/pid == $target/
{
	self->ts = timestamp;
}

syscall::read:return,
syscall::write:return
/self->ts/
{
	this->ns = timestamp - self->ts;
	@calls[probefunc] = count();
	@total[probefunc] = sum(this->ns);
	@dist[probefunc] = quantize(this->ns);
	self->ts = 0;
}

END
{
	printf("%-8s %10s %14s\n", "CALL", "COUNT", "TOTAL(ns)");
	printa("%-8s %@10d %@14d\n", @calls, @total);
	printa(@dist);
}
