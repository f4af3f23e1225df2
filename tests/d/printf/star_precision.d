/* %.*s, %.0s, %*.*s and %-*s take width and precision from arguments */
#pragma D option quiet

BEGIN
{
	printf("[%.*s][%.0s][%*.*s][%-*s]\n", 3, "abcdef", "xyz", 6, 2, "abcdef", 4, "ab");
	printf("[%.*d][%*d]\n", 4, 7, -4, 7);
	exit(0);
}
