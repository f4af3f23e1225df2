/* Several clauses may speculate into one buffer; commit shows them all */
#pragma D option quiet

BEGIN
{
	s = speculation();
}

BEGIN
{
	speculate(s);
	printf("one\n");
}

BEGIN
{
	speculate(s);
	printf("two ");
	printf("%d\n", 2);
}

BEGIN
{
	commit(s);
}

BEGIN
{
	exit(0);
}
