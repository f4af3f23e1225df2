/* exit: 2 */
#pragma D option quiet
BEGIN
{
	exit(258);
}
