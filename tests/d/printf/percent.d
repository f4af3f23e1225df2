#pragma D option quiet
BEGIN
{
	printf("100%% done\n");
	exit(0);
}
