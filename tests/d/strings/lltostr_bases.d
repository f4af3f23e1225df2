/* lltostr( ) in other bases: 0x for 16, leading 0 for 8 */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", lltostr(255, 16));
	printf("[%s]\n", lltostr(8, 8));
	printf("[%s]\n", lltostr(5, 2));
	printf("[%s]\n", lltostr(35, 36));
	printf("[%s]\n", lltostr(0, 16));
	printf("[%s]\n", lltostr(0, 8));
	printf("[%s]\n", lltostr(0, 2));
	printf("[%s]\n", lltostr(1295, 36));
	printf("[%s]\n", lltostr(10, 10));
	exit(0);
}
