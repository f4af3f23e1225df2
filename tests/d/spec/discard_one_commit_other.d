/* discard( ) drops one speculation; the other is still committed */
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
	printf("dropped\n");
}

BEGIN
{
	speculate(b);
	printf("kept\n");
}

BEGIN
{
	discard(a);
	commit(b);
}

BEGIN
{
	exit(0);
}
