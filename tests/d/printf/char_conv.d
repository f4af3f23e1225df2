#pragma D option quiet
BEGIN
{
	printf("[%c][%3c][%-3c]\n", 'x', 'y', 'z');
	exit(0);
}
