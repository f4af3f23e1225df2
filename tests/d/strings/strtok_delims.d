/* strtok( ) with several delimiters */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("  hello world\tfoo ", " \t"));
	printf("[%s]\n", strtok(0, " \t"));
	printf("[%s]\n", strtok(0, " \t"));
	printf("[%s]\n", strtok(0, " \t"));
	exit(0);
}
