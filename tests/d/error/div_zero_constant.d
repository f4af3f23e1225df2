/* args: -x errtags */
/* exit: 1 */
/* Division by a constant 0 is caught at compile time */
BEGIN
{
	x = 10;
	y = x / 0;
}
