#pragma D option quiet
BEGIN
{
	a = "abc"; b = "abcd";
	printf("%d %d %d\n", a < b, a == "abc", b > a);
	exit(0);
}
