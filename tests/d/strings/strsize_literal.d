/* args: -x strsize=16 */
/* A string constant is cut to strsize - 1 bytes wherever it is used */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", "abcdefghijklmnopqrstuvwxyz");
	s = "0123456789abcdefghij";
	printf("[%s] %d\n", s, strlen(s));
	exit(0);
}
