/* Each alloca( ) starts at the next 8-byte boundary after the last */
#pragma D option quiet

BEGIN
{
	a = alloca(1);
	b = alloca(9);
	c = alloca(8);
	d = alloca(16);
	printf("%d %d %d\n", (uintptr_t)b - (uintptr_t)a,
	    (uintptr_t)c - (uintptr_t)b, (uintptr_t)d - (uintptr_t)c);
	exit(0);
}
