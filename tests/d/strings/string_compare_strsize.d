/* string comparisons see strings cut to strsize - 1 */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("%d\n", "0123456789abcdefX" == "0123456789abcdefY");
	printf("%d\n", "0123456789abcdX" == "0123456789abcdY");
	exit(0);
}
