#pragma D option quiet
BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("speculated\n");
}

BEGIN
{
	printf("plain\n");
}

BEGIN
{
	commit(s);
}

BEGIN
{
	exit(0);
}
