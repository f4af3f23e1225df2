#pragma D option quiet
BEGIN
{
	x = 1; s = "first";
	x = x + 41; s = "second";
	printf("%d %s\n", x, s);
	exit(0);
}
