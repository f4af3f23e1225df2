/* args: -x errtags */
/* exit: 1 */
/* A string is no arithmetic operand */
BEGIN
{
	trace("a" * 2);
}
