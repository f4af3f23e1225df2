#pragma D option quiet
int n;

tick-2ms
{
	n++;
}

tick-2ms
/n == 3/
{
	printf("three ticks\n");
	exit(0);
}
