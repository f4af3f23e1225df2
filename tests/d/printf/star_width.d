#pragma D option quiet
BEGIN
{
	printf("%*d|%-*d|\n", 6, 42, 4, 7);
	exit(0);
}
