/* strjoin( ) stops at strsize - 1 bytes */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("[%s]\n", strjoin("0123456789", "abcdefghij"));
	printf("[%s]\n", strjoin("abc", "def"));
	exit(0);
}
