/* strtok( ) with different delimiters on each call */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("a=b;c=d", "="));
	printf("[%s]\n", strtok(0, ";"));
	printf("[%s]\n", strtok(0, "="));
	printf("[%s]\n", strtok(0, ";="));
	printf("[%s]\n", strtok(0, "="));
	exit(0);
}
