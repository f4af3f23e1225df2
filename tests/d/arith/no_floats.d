/* args: -x errtags */
/* exit: 1 */
/* D has no floating-point constants */
BEGIN
{
	x = 1.5;
}
