#pragma D option quiet

/*
 * A thread-local first assigned in the clause its predicate reads: the
 * actions are checked first, so self->seen is known to the predicate.
 */
BEGIN
/!self->seen/
{
	self->seen = 1;
	printf("once\n");
}

BEGIN
/self->seen/
{
	printf("seen = %d\n", self->seen);
	exit(0);
}
