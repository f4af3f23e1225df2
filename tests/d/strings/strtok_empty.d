/* strtok( ) of empty and all-delimiter strings */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("", ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok(",,,", ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok("abc", ""));
	printf("[%s]\n", strtok(0, ""));
	exit(0);
}
