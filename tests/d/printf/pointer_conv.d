#pragma D option quiet
BEGIN
{
	printf("%p\n", 255);
	exit(0);
}
