/* A declared thread-local reads as 0 before any assignment */
#pragma D option quiet

self int depth;
self string name;

BEGIN
{
	printf("%d [%s]\n", self->depth, self->name);
	self->depth++;
	self->depth++;
	printf("%d\n", self->depth);
	exit(0);
}
