/* Storing a shorter string leaves nothing of the longer one */
#pragma D option quiet

BEGIN
{
	s = "a longer string";
	s = "ab";
	self->t = "another long one";
	self->t = "";
	printf("[%s] %d [%s]\n", s, strlen(s), self->t);
	exit(0);
}
