#pragma D option quiet
BEGIN
{
	printf("%u\n", (int)-1);
	exit(0);
}
