/* substr( ) with a non-negative index and length */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", substr("hello", 1, 3));
	printf("[%s]\n", substr("hello", 0));
	printf("[%s]\n", substr("hello", 1));
	printf("[%s]\n", substr("hello", 4));
	printf("[%s]\n", substr("hello", 0, 5));
	printf("[%s]\n", substr("hello", 2, 0));
	exit(0);
}
