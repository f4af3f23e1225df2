/* args: -x errtags */
/* exit: 1 */
/* += on a string variable is D_OP_INCOMPAT */
BEGIN
{
	s = "abc";
	s += 1;
}
