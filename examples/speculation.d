/*
 * speculation.d: trace every syscall of an open(2) that fails, and nothing
 * of the ones that succeed.
 */
#pragma D option nspec=4
#pragma D option specsize=64k

syscall::openat:entry
{
	self->spec = speculation();
	speculate(self->spec);
	printf("openat(%s, %d)\n", copyinstr(arg1), arg2);
}

syscall:::entry
/self->spec/
{
	speculate(self->spec);
	printf("  %s\n", probefunc);
}

syscall::openat:return
/self->spec && arg0 < 0/
{
	commit(self->spec);
	self->spec = 0;
}

syscall::openat:return
/self->spec && arg0 >= 0/
{
	discard(self->spec);
	self->spec = 0;
}
