/* After exit( ), the BEGIN clauses that follow do not run; END does. */
#pragma D option quiet

BEGIN
{
	printf("one\n");
	exit(0);
}

BEGIN
{
	printf("two\n");
}

END
{
	printf("end\n");
}
