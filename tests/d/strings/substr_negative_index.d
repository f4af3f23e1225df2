/* substr( ): a negative index counts from the end */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", substr("hello", -3));
	printf("[%s]\n", substr("hello", -1));
	printf("[%s]\n", substr("hello", -5));
	printf("[%s]\n", substr("hello", -6));
	printf("[%s]\n", substr("hello", -10, 7));
	printf("[%s]\n", substr("hello", -10, 3));
	printf("[%s]\n", substr("hello", -3, 2));
	exit(0);
}
