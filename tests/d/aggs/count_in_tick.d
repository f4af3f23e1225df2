#pragma D option quiet
int n;

tick-1ms
{
	@ticks = count();
}

tick-1ms
/++n == 5/
{
	exit(0);
}
