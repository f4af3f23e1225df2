#pragma D option quiet
BEGIN
{
	@q = quantize(0); @q = quantize(-1); @q = quantize(-3); @q = quantize(5);
	exit(0);
}
