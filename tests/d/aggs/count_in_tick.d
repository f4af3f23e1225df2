#pragma D option quiet
int n;

tick-1ms
/n < 5/
{
	@ticks = count();
}

tick-1ms
{
	n++;
}

tick-1ms
/n == 5/
{
	exit(0);
}
