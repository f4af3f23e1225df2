#pragma D option quiet
BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("hidden\n");
}

BEGIN
{
	discard(s);
}

BEGIN
{
	printf("done\n");
	exit(0);
}
