/* args: -x strsize=16 */
/* strtok( ) sees its string cut to strsize - 1 */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", strtok("aaaa,bbbbbbbbbbbbbbbb", ","));
	printf("[%s]\n", strtok(0, ","));
	printf("[%s]\n", strtok(0, ","));
	exit(0);
}
