#pragma D option quiet
/* copyinstr() from an address no process maps: ERROR fires with
   DTRACEFLT_BADADDR and the address, and the clause is abandoned. */
BEGIN
{
	s = copyinstr(16);
	printf("not reached %s\n", s);
}

ERROR
{
	printf("fault %d at %x (BADADDR %d)\n", arg4, arg5, arg4 == DTRACEFLT_BADADDR);
}

BEGIN
{
	exit(0);
}
