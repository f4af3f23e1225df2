#pragma D option quiet
BEGIN
{
	x = rand(); y = rand(); z = rand();
	printf("%d\n", x != y || y != z);
	exit(0);
}
