/* args: -x errtags */
/* exit: 1 */
/* A string is no scalar: ! rejects it */
BEGIN
{
	trace(!"a");
}
