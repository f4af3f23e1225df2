/* args: -x errtags */
/* exit: 1 */
/* A constant alloca( ) size above scratchsize is a compile error */
BEGIN
{
	p = alloca(1000);
}
