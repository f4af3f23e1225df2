#pragma D option quiet
/* bcopy() into memory that is not alloca()'d scratch faults at the
   destination, before anything is copied. */
BEGIN
{
	this->src = alloca(8);
	bcopy(this->src, (void *)64, 8);
	printf("not reached\n");
}

ERROR
{
	printf("fault %d at %x\n", arg4, arg5);
}

BEGIN
{
	exit(0);
}
