#pragma D option quiet
BEGIN
{
	x = 7;
	printf("%s %s %d\n", x > 5 ? "big" : "small", x > 50 ? "big" : "small", x == 7 ? 1 : 2);
	exit(0);
}
