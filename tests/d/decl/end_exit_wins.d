/* exit: 3 */
#pragma D option quiet

/* exit() in END overrides the status of the exit() that ended the run. */
BEGIN
{
	exit(0);
}

END
{
	printf("END\n");
	exit(3);
}
