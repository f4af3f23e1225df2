#pragma D option quiet
BEGIN
{
	x = 3; y = 4;
	printf("%d %d %d %d %d %d %d\n", x < y, y <= x, !0, x && 0, 0 || y, 1 ^^ 1, 1 ^^ 0);
	exit(0);
}
