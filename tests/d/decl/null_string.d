#pragma D option quiet
/* A string variable takes NULL, and compares with it as an unset one
   does (whoexec.d's `self->parent != NULL`). */
BEGIN
{
	s = "abc";
	printf("%d ", s != NULL);
	s = NULL;
	printf("%d %d ", s == NULL, NULL == s);
	self->parent = execname;
	printf("%d ", self->parent != NULL);
	self->parent = NULL;
	printf("%d\n", self->parent == NULL);
	exit(0);
}
