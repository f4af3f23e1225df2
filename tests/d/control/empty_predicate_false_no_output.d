#pragma D option quiet
BEGIN
/0/
{
	@ = count();
}

BEGIN
{
	exit(0);
}
