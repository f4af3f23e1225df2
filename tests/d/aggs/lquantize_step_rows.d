/* lquantize( ) rows begin at lo and rise by step, with values in between */
#pragma D option quiet

BEGIN
{
	@l = lquantize(7, 5, 25, 5);
	@l = lquantize(9, 5, 25, 5);
	@l = lquantize(14, 5, 25, 5);
	exit(0);
}
