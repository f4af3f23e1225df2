#pragma D option quiet
BEGIN
{
	x = 0;
	printf("discarded with the clause\n");
	y = 1 / x;
}

BEGIN
{
	printf("next clause runs\n");
	exit(0);
}
