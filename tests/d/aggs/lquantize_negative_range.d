/* lquantize( ) over a range below zero, step 5 */
#pragma D option quiet

BEGIN
{
	@l = lquantize(-7, -10, 10, 5);
	@l = lquantize(-3, -10, 10, 5);
	@l = lquantize(0, -10, 10, 5);
	@l = lquantize(12, -10, 10, 5);
	exit(0);
}
