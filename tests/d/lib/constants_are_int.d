/*
 * Library constants are substituted as int literals, even those
 * declared char (SSLEEP, PR_MODEL_LP64): 4 bytes each.
 */
#pragma D option quiet

BEGIN
{
	x = SSLEEP;
	printf("%d %d %d %d %d\n", sizeof (EPERM), sizeof (SSLEEP),
	    sizeof (PR_MODEL_LP64), sizeof (O_SYNC), sizeof (x));
	exit(0);
}
