/* lltostr( ) of negative numbers in bases other than 10: two's complement */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", lltostr(-1, 16));
	printf("[%s]\n", lltostr(-1, 2));
	printf("[%s]\n", lltostr(-8, 8));
	printf("[%s]\n", lltostr(-255, 36));
	exit(0);
}
