/* inet_ntoa( ), inet_ntoa6( ) and inet_ntop( ) of zeroed memory (alloca( ) zeroes); AF_INET 2, AF_INET6 10 */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", inet_ntoa(alloca(4)));
	printf("[%s]\n", inet_ntop(2, alloca(4)));
	printf("[%s]\n", inet_ntop(10, alloca(16)));
	printf("[%s]\n", inet_ntoa6(alloca(16)));
	exit(0);
}
