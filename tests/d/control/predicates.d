#pragma D option quiet
BEGIN
/1/
{
	printf("yes\n");
}

BEGIN
/0/
{
	printf("no\n");
}

BEGIN
/2 > 1 && 3/
{
	printf("compound\n");
	exit(0);
}
