/* avg( ) entries sort by their mean */
#pragma D option quiet

BEGIN
{
	@["a"] = avg(10);
	@["a"] = avg(20);
	@["b"] = avg(3);
	@["c"] = avg(-4);
	@["c"] = avg(4);
	exit(0);
}
