/*
 * Who runs what: each successful exec by the program that asked for it
 * (DTrace Guide, whoexec.d). proc:::exec fires in the old image, before
 * execname changes; exec-success in the new one.
 */
#pragma D option quiet

proc:::exec
{
	self->parent = execname;
}

proc:::exec-success
/self->parent != NULL/
{
	@[self->parent, execname] = count();
	self->parent = NULL;
}

proc:::exec-failure
/self->parent != NULL/
{
	self->parent = NULL;
}

END
{
	printf("%-20s %-20s %s\n", "WHO", "WHAT", "COUNT");
	printa("%-20s %-20s %@d\n", @);
}
