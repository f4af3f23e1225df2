#pragma D option quiet
BEGIN
{
	@z = sum(5);
	@a = sum(1);
	exit(0);
}
