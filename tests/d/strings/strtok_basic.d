/* strtok( ) then strtok(NULL, ...) through a string; NULL is printed as "" */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("a,b,,c", ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok(0, ","));
	exit(0);
}
