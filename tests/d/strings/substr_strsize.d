/* substr( ) with a small strsize */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("[%s]\n", substr("0123456789abcdefghij", 3));
	printf("[%s]\n", substr("0123456789abcdefghij", -4));
	printf("[%s]\n", substr("0123456789abcdefghij", 10, 20));
	exit(0);
}
