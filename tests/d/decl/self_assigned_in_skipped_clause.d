/*
 * self->x and self->s are known from a clause that never runs: the
 * later reads compile and give 0 and "".
 */
#pragma D option quiet

BEGIN
/0/
{
	self->x = 5;
	self->s = "set";
}

BEGIN
{
	printf("%d [%s]\n", self->x, self->s);
	exit(0);
}
