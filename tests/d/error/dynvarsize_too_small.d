/* args: -x dynvarsize=100 */
/* exit: 1 */
#pragma D option quiet
/* dynvarsize must hold one element of the largest associative array. */
BEGIN
{
	a[execname] = 1;
	exit(0);
}
