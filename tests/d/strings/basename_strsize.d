/* basename( ) and dirname( ) of a path cut to strsize - 1 */
#pragma D option quiet
#pragma D option strsize=16

BEGIN
{
	printf("[%s]\n", basename("/abc/defghijklmnopqrstu"));
	printf("[%s]\n", dirname("/abc/defghijklmnopqrstu/v"));
	exit(0);
}
