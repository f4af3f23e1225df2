#pragma D option quiet
BEGIN
{
	x = (int64_t)1 << 40;
	trace(x);
	printf("\n");
	exit(0);
}
