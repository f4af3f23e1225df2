#pragma D option quiet
BEGIN
{
	printf("tab\there\\back \"q\"\n");
	exit(0);
}
