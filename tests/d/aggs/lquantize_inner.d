#pragma D option quiet
BEGIN
{
	@l = lquantize(50, 0, 100, 10); @l = lquantize(55, 0, 100, 10); @l = lquantize(72, 0, 100, 10);
	exit(0);
}
