#pragma D option quiet

/* alloca(0) takes nothing; every allocation is 8-byte aligned. */
BEGIN
{
	a = alloca(0);
	b = alloca(0);
	c = alloca(3);
	d = alloca(1);
	printf("%d %d %d %d\n", b - a, (uintptr_t)c % 8, (uintptr_t)d % 8,
	    c > d ? c - d : d - c);
	exit(0);
}
