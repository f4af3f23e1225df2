#pragma D option quiet
BEGIN
{
	x = (uint32_t)-1; y = 1;
	printf("%d %d\n", x > y, (int)x > y);
	exit(0);
}
