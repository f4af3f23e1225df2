/* An assignment is an expression whose value is the value stored */
#pragma D option quiet

BEGIN
{
	a = b = 3;
	c = (d = 4) * 2;
	e = (char)0;
	f = (e = 300) + 1;
	printf("%d %d %d %d %d\n", a, b, c, d, f);
	exit(0);
}
