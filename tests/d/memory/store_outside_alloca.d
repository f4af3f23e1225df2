#pragma D option quiet

/*
 * A store must land in alloca( )'d memory: past the allocation, or
 * through a pointer to kernel memory held in a variable, it is the
 * invalid-address fault, and the clause goes no further.
 */
BEGIN
{
	p = (int *)alloca(8);
	i = 2;
	p[i] = 1;
	printf("not reached\n");
}

BEGIN
{
	this->t = curthread;
	this->t->pid = 1;
	printf("not reached either\n");
}

ERROR
{
	printf("fault %d\n", arg4);
}

BEGIN
{
	exit(0);
}
