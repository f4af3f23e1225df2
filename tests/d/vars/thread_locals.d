#pragma D option quiet
BEGIN
{
	self->n = 3;
	self->n += 4;
	self->s = "mine";
	printf("%d %s\n", self->n, self->s);
	self->n = 0;
	printf("%d\n", self->n);
	exit(0);
}
