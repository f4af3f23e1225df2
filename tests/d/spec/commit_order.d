/* Committed speculations appear at their commit, in commit order */
#pragma D option nspec=2
#pragma D option quiet

BEGIN
{
	a = speculation();
	b = speculation();
}

BEGIN
{
	speculate(a);
	printf("from a\n");
}

BEGIN
{
	speculate(b);
	printf("from b\n");
}

BEGIN
{
	printf("plain\n");
}

BEGIN
{
	commit(b);
}

BEGIN
{
	commit(a);
}

BEGIN
{
	exit(0);
}
