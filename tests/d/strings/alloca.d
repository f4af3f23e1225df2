/* alloca( ) returns zeroed scratch memory */
#pragma D option quiet

BEGIN
{
	printf("%d\n", *(uint32_t *)alloca(4));
	printf("%d\n", *(uint64_t *)alloca(64));
	exit(0);
}
