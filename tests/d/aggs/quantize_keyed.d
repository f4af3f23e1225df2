#pragma D option quiet
BEGIN
{
	@q["x"] = quantize(1); @q["y"] = quantize(16); @q["y"] = quantize(16);
	exit(0);
}
