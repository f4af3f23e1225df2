/* An array of structs in alloca( )'d memory, through [] . and -> */
#pragma D option quiet

struct pt {
	int x;
	int y;
};

BEGIN
{
	s = (struct pt *)alloca(3 * sizeof (struct pt));
	s[1].x = 5;
	(s + 1)->y = 6;
	s[2].y = 7;
	printf("%d %d %d %d\n", s[1].x, s[1].y, s[2].y, s[0].x);
	exit(0);
}
