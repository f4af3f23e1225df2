/* substr( ) past the end gives "" */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", substr("hello", 10));
	printf("[%s]\n", substr("hello", 5));
	printf("[%s]\n", substr("hello", 5, 1));
	printf("[%s]\n", substr("", 0));
	printf("[%s]\n", substr("", -1, 3));
	printf("[%s]\n", substr("hello", 2, 100));
	exit(0);
}
