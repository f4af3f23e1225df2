#pragma D option quiet
int x;
string s;

BEGIN
{
	a[1] = 1;
}

BEGIN
{
	printf("[%d][%s][%d]\n", x, s, a[42]);
	exit(0);
}
