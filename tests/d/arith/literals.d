#pragma D option quiet
BEGIN
{
	printf("%d %d %d %d\n", 0x10, 010, 1000000000000, 0xffffffff);
	exit(0);
}
