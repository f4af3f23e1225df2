/* ! of a pointer or integer: 1 for NULL or 0, else 0 */
#pragma D option quiet

BEGIN
{
	p = (int *)0;
	q = (int *)alloca(4);
	printf("%d %d %d %d\n", !p, !q, !0, !!42);
	exit(0);
}
