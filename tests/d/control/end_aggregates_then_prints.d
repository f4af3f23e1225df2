#pragma D option quiet
BEGIN
{
	@ = sum(1);
	exit(0);
}

END
{
	@ = sum(2);
}
