/* args: -x errtags */
/* exit: 1 */
/* Only one speculate( ) per clause */
BEGIN
{
	speculate(1);
	speculate(2);
}
