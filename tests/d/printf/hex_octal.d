#pragma D option quiet
BEGIN
{
	x = 255; y = 8;
	printf("%x %X %#x %#o %o\n", x, x, x, y, y);
	exit(0);
}
