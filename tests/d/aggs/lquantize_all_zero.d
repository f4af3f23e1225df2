/* An lquantize( ) whose buckets are all zero shows its first three rows */
#pragma D option quiet

BEGIN
{
	@l = lquantize(5, 0, 10, 1, 0);
	exit(0);
}
