/* NULL is substituted as the int literal 0: a variable set from it is an int */
#pragma D option quiet

BEGIN
{
	x = NULL;
	printf("%d %d\n", x, sizeof (x));
	exit(0);
}
