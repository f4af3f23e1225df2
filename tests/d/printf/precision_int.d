#pragma D option quiet
BEGIN
{
	printf("%.5d|%8.3d|\n", 42, 7);
	exit(0);
}
