#pragma D option quiet
BEGIN
{
	p = (int *)8;
	trace(*p);
}

BEGIN
{
	exit(0);
}
