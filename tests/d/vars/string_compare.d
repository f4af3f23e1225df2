#pragma D option quiet
BEGIN
{
	a = "apple"; b = "banana";
	printf("%d %d %d %d\n", a < b, a == b, a != b, b >= a);
	exit(0);
}
