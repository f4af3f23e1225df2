#pragma D option quiet
BEGIN
{
	printf("before\n");
	exit(0);
	printf("after\n");
}
