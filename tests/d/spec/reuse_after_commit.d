#pragma D option quiet
BEGIN
{
	a = speculation();
}

BEGIN
{
	commit(a);
}

BEGIN
{
	b = speculation();
	printf("%d %d\n", a, b);
	exit(0);
}
