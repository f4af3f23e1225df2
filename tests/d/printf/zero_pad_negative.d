#pragma D option quiet
BEGIN
{
	x = -42;
	printf("%06d|%-6d|\n", x, x);
	exit(0);
}
