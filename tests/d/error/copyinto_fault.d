#pragma D option quiet
/* copyinto() faults on the source it cannot read; the destination stays
   as alloca() zeroed it. */
BEGIN
{
	this->buf = (char *)alloca(8);
	copyinto(24, 8, this->buf);
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
