#pragma D option quiet
BEGIN
{
	x = 4294967296;
	printf("%d\n", x * 3 + 1);
	exit(0);
}
