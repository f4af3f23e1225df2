/* printa( ) of two aggregations without a format: keys once, then each value */
#pragma D option quiet

BEGIN
{
	@a[1] = count();
	@b[1] = sum(10);
	@a[2] = count();
	@a[2] = count();
	@b[2] = sum(-3);
	printa(@a, @b);
	exit(0);
}
