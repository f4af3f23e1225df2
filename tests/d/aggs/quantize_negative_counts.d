/* Only negative counts: the bars grow leftwards from the | */
#pragma D option quiet

BEGIN
{
	@q = quantize(4, -3);
	@q = quantize(1, -1);
	exit(0);
}
