/* strtok( ) with a new string starts over */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("x y z", " "));
	printf("[%s]\n", strtok(0, " "));
	printf("[%s]\n", strtok("1 2", " "));
	printf("[%s]\n", strtok(0, " "));
	printf("[%s]\n", strtok(0, " "));
	exit(0);
}
