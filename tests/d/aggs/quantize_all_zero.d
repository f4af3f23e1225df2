/* A quantize( ) whose buckets are all zero shows the rows -1, 0 and 1 */
#pragma D option quiet

BEGIN
{
	@q = quantize(5, 0);
	exit(0);
}
