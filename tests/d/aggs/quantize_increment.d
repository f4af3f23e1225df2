/* quantize( )'s second argument is the weight added to the bucket */
#pragma D option quiet

BEGIN
{
	@q = quantize(3, 5);
	@q = quantize(8, 5);
	@q = quantize(8);
	exit(0);
}
