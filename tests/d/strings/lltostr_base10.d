/* lltostr( ) in base 10 */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", lltostr(0));
	printf("[%s]\n", lltostr(123));
	printf("[%s]\n", lltostr(-123));
	printf("[%s]\n", lltostr(9223372036854775807));
	printf("[%s]\n", lltostr(-9223372036854775807 - 1));
	printf("[%s]\n", lltostr(-1));
	exit(0);
}
