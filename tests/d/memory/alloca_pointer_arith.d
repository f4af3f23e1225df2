/* Pointer arithmetic on alloca( )'d memory scales by the pointee size,
   and pointer - pointer counts elements. */
#pragma D option quiet
BEGIN
{
	p = (int *)alloca(16);
	q = p + 2;
	*(p + 3) = 9;
	q[0] = 4;
	printf("%d %d %d %d %d\n", (uintptr_t)q - (uintptr_t)p, q - p, p - q, p[3], p[2]);
	exit(0);
}
