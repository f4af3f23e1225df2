#pragma D option nspec=2
#pragma D option quiet
BEGIN
{
	a = speculation();
	b = speculation();
	printf("%d %d\n", a, b);
	exit(0);
}
