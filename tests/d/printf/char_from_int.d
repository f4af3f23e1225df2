/* %c prints the low byte of an int */
#pragma D option quiet

BEGIN
{
	printf("[%c%c%c]\n", 65, 321, 'z' - 25);
	exit(0);
}
