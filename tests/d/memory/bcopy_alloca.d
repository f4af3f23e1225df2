/* bcopy( ) between two alloca( )'d buffers */
#pragma D option quiet

BEGIN
{
	a = (int *)alloca(8);
	a[0] = 42;
	a[1] = -1;
	b = (int *)alloca(8);
	bcopy(a, b, 8);
	a[0] = 0;
	printf("%d %d %d\n", b[0], b[1], a[0]);
	exit(0);
}
