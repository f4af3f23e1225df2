#pragma D option quiet

/* NULL is the literal 0: a null pointer wherever 0 is one. */
BEGIN
{
	p = (int *)0;
	printf("%d\n", p == NULL);
	p = NULL;
	printf("%d\n", p != NULL);
	self->q = (char *)0;
	self->q = NULL;
	printf("%d\n", self->q == NULL);
	exit(0);
}
