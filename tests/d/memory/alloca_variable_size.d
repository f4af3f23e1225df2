/* alloca( ) takes a size computed at run time */
#pragma D option quiet

BEGIN
{
	n = 16;
	p = (int *)alloca(n);
	p[3] = 5;
	printf("%d\n", p[3]);
	exit(0);
}
