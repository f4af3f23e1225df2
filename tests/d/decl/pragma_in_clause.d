/*
 * A control line inside a clause acts as anywhere else: quiet holds for
 * the whole program, so no probe header line is printed.
 */
BEGIN
{
#pragma D option quiet
	printf("quiet\n");
	exit(0);
}
