/* llquantize( ) with factor 10, magnitudes 0 to 1, 10 steps each */
#pragma D option quiet

BEGIN
{
	@l = llquantize(5, 10, 0, 1, 10);
	@l = llquantize(50, 10, 0, 1, 10);
	@l = llquantize(500, 10, 0, 1, 10);
	exit(0);
}
