/* lquantize( ) without a step uses 1; every row in use is shown */
#pragma D option quiet

BEGIN
{
	@l = lquantize(-1, 0, 3);
	@l = lquantize(0, 0, 3);
	@l = lquantize(1, 0, 3);
	@l = lquantize(2, 0, 3);
	@l = lquantize(3, 0, 3);
	exit(0);
}
