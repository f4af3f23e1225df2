/* printa( ) can print the value with %@u, %@x and %@o as well */
#pragma D option quiet

BEGIN
{
	@ = sum(255);
	printa("%@u %@x %@X %@o\n", @);
	exit(0);
}
