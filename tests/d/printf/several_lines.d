#pragma D option quiet
BEGIN
{
	printf("a\n");
	printf("b");
	printf("c\n");
	exit(0);
}
