#pragma D option quiet
int n;

BEGIN
{
	zero = 0;
}

tick-1ms
/n++ < 3/
{
	x = n / zero;
}

tick-1ms
/n > 3/
{
	exit(0);
}

ERROR
{
	@errors[arg4] = count();
}
