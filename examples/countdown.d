/* The DTrace guide's countdown: a global counter driven by tick-1sec. */
int i;

BEGIN
{
	i = 10;
}

tick-1s
/i > 0/
{
	trace(i--);
}

tick-1s
/i == 0/
{
	trace("blastoff!");
	exit(0);
}
