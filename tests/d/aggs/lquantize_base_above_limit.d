/* args: -x errtags */
/* exit: 1 */
/* lquantize( ) base must be below its limit */
BEGIN
{
	@a = lquantize(1, 10, 0);
}
