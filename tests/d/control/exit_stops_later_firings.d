/* Nothing but END fires once exit( ) has run: the tick that called it is
   the last, however long the consumer takes to see its record. */
#pragma D option quiet

tick-1ms
{
	n++;
}

tick-1ms
/n == 3/
{
	exit(0);
}

END
{
	printf("%d\n", n);
}
