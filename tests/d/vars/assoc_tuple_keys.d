#pragma D option quiet
BEGIN
{
	a[1, "b"] = 10; a[2, "b"] = 20; a[1, "c"] = 30;
	printf("%d %d %d %d\n", a[1, "b"], a[2, "b"], a[1, "c"], a[2, "c"]);
	exit(0);
}
