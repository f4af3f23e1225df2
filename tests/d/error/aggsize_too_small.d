/* args: -x aggsize=8 */
/* exit: 1 */
#pragma D option quiet
/* aggsize must hold one entry of the largest aggregation. */
BEGIN
{
	@[execname] = count();
	exit(0);
}
