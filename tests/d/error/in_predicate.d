#pragma D option quiet
BEGIN
{
	z = 0;
}

BEGIN
/10 / z/
{
	printf("never\n");
}

BEGIN
{
	exit(0);
}
