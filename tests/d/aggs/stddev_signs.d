/* stddev( ) of values around zero, and of a single value */
#pragma D option quiet

BEGIN
{
	@a = stddev(-2);
	@a = stddev(2);
	@b = stddev(5);
	exit(0);
}
