/* args: -b 16 */
/* exit: 1 */
#pragma D option quiet
/* bufsize must hold one record (here a 256-byte string): DTrace refuses
   to start rather than drop every record. */
BEGIN
{
	trace(execname);
	exit(0);
}
