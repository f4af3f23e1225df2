#pragma D option quiet
BEGIN
{
	x = 300; y = 70000; z = 257;
	printf("%d %d %d %d\n", (char)x, (short)y, (uint8_t)z, (int8_t)255);
	exit(0);
}
