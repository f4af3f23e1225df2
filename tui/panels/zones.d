/*
 * lumen top: the Zones panel. Per zone (`zonename` is the zone's UUID,
 * "global" for the host): how often it is on CPU and how long its system
 * calls take. The panel reads two aggregations by name:
 *
 *   @oncpu[zonename]    profile-97 samples of a non-idle thread of the
 *                       zone; CPU% = samples / (97 Hz x seconds) x 100,
 *                       i.e. percent of one CPU (200% = two CPUs busy).
 *   @latency[zonename]  system call latency in nanoseconds, entry to
 *                       return: calls that block (poll, futex, a read of
 *                       an empty pipe) count with the time they waited.
 *                       Its total per interval is the panel's syscalls/s;
 *                       its p50/p99 are read from the buckets.
 *
 * llquantize(x, 10, 2, 9, 10): ten linear steps per decade from 100 ns to
 * 10 s, so a percentile is known to within one step (10% to 100% of the
 * value, coarsest at the bottom of each decade); below 100 ns is one
 * bucket, above 10 s another.
 *
 * raw_syscalls: one tracepoint for every system call, where syscall:::entry
 * attaches ~700 per-call tracepoints (seconds to start); the same events.
 */

profile-97
/pid != 0/
{
	@oncpu[zonename] = count();
}

sdt:raw_syscalls::sys_enter
{
	self->ts = timestamp;
}

sdt:raw_syscalls::sys_exit
/self->ts/
{
	@latency[zonename] = llquantize(timestamp - self->ts, 10, 2, 9, 10);
	self->ts = 0;
}
