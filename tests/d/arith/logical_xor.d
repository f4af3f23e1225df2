/* ^^ is logical exclusive or: its result is 0 or 1 */
#pragma D option quiet

BEGIN
{
	a = 2; b = 0; c = -1;
	printf("%d %d %d %d\n", a ^^ b, a ^^ c, b ^^ b, b ^^ c);
	printf("%d %d\n", 1 ^^ 0, 5 ^^ 3);
	exit(0);
}
