/*
 * lumen top: the Processes panel. Who is on CPU: profile-97 samples of
 * non-idle threads by process, command and zone. The panel reads
 * @oncpu[pid, execname, zonename]; CPU% = samples / (97 Hz x seconds) x
 * 100, percent of one CPU.
 *
 * Every 10 s only the 100 busiest keys are kept, so processes that have
 * exited do not pile up in the map (the panel counts a key that went down
 * as starting again from zero).
 */

profile-97
/pid != 0/
{
	@oncpu[pid, execname, zonename] = count();
}

tick-10s
{
	trunc(@oncpu, 100);
}
