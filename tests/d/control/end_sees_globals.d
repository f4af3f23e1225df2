#pragma D option quiet
BEGIN
{
	x = 41;
	exit(0);
}

END
{
	printf("%d\n", x + 1);
}
