/* sizeof of variables and expressions follows D's typing rules */
#pragma D option quiet

BEGIN
{
	c = (char)1;
	s = (short)1;
	p = (int *)0;
	printf("%d %d %d %d %d %d\n", sizeof (c), sizeof (s), sizeof (c + 1),
	    sizeof (c == s), sizeof (p), sizeof (*p));
	printf("%d %d\n", sizeof (p - p), sizeof (s + 1L));
	exit(0);
}
