#pragma D option quiet
BEGIN
{
	x = 42;
	printf("%5d|%-5d|%05d|%+d|% d|\n", x, x, x, x, x);
	exit(0);
}
