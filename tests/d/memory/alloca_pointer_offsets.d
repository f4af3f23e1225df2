/* Adding to a pointer into alloca( )'d memory scales by the pointee size */
#pragma D option quiet

BEGIN
{
	p = (int *)alloca(16);
	q = p + 2;
	*(p + 3) = 9;
	q[0] = 4;
	printf("%d %d %d\n", (uintptr_t)q - (uintptr_t)p, p[3], p[2]);
	l = (int64_t *)alloca(16);
	printf("%d\n", (uintptr_t)(l + 1) - (uintptr_t)l);
	exit(0);
}
