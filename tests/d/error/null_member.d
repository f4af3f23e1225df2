/* p->y through a NULL struct pointer faults at the member's address */
#pragma D option quiet

struct pt {
	int x;
	int y;
};

BEGIN
{
	p = (struct pt *)0;
	trace(p->y);
}

ERROR
{
	printf("fault %d\n", arg4);
}

BEGIN
{
	exit(0);
}
