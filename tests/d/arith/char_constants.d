#pragma D option quiet
BEGIN
{
	printf("%d %d %c%c\n", 'A', '\n', 'o', 'k');
	exit(0);
}
