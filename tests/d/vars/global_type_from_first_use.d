/* A global takes its first value's type: later values are converted */
#pragma D option quiet

BEGIN
{
	c = (char)0;
	c = 300;
	w = 0;
	w = 0x100000001;
	printf("%d %d %d %d\n", c, sizeof (c), w, sizeof (w));
	exit(0);
}
