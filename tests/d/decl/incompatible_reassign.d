/* args: -x errtags */
/* exit: 1 */
/* A variable keeps its first type: int then string is D_OP_INCOMPAT */
BEGIN
{
	x = 1;
	x = "a";
}
