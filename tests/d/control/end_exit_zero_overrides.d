/* exit( ) in END replaces the status given by BEGIN's exit( ), even by 0 */
#pragma D option quiet

BEGIN
{
	exit(4);
}

END
{
	printf("end\n");
	exit(0);
}
