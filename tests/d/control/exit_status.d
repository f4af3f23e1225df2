/* exit: 3 */
#pragma D option quiet
BEGIN
{
	exit(3);
}
