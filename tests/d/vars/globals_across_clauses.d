#pragma D option quiet
BEGIN
{
	x = 10;
}

BEGIN
{
	x *= 3;
}

BEGIN
{
	printf("%d\n", x);
	exit(0);
}
