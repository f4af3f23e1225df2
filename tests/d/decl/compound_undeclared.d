/* args: -x errtags */
/* exit: 1 */

/* x += is no declaration: DTrace makes x, then finds it unassigned. */
BEGIN
{
	x += 5;
}
