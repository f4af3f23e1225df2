/* Positive and negative counts: two 20-column halves around the | */
#pragma D option quiet

BEGIN
{
	@q = quantize(1, 2);
	@q = quantize(4, -2);
	exit(0);
}
