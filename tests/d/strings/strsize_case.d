/* args: -x strsize=16 */
/* toupper( ) and tolower( ) of a string longer than strsize */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", toupper("abcdefghijklmnopqrst"));
	printf("[%s]\n", tolower("ABCDEFGHIJKLMNOPQRST"));
	exit(0);
}
