#pragma D option quiet
BEGIN
{
	x = 0;
	y = 7 % x;
}

BEGIN
{
	exit(0);
}
