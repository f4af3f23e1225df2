/* The + and space flags, with negative numbers, zero and widths */
#pragma D option quiet

BEGIN
{
	printf("[%+d][% d][%+d][% d][%+5d][%-+5d][% 5d]\n", -5, -5, 0, 0, 7, 7, 7);
	exit(0);
}
