/* END names itself dtrace:::END, after BEGIN's printing */
#pragma D option quiet

BEGIN
{
	printf("%s\n", probename);
	exit(0);
}

END
{
	printf("%s:%s:%s:%s\n", probeprov, probemod, probefunc, probename);
}
