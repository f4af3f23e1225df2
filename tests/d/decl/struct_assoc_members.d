#pragma D option quiet
/* Members of structs held in associative arrays and thread-locals can be
   stored to: the element is made (zeroed) on the first store. */
struct pair { int a; int b; };
struct pair s[string];
self struct pair t;

BEGIN
{
	s["x"].a = 5;
	s["x"].b = s["x"].a + 1;
	self->t.b = 7;
	self->t.a++;
	printf("%d %d %d %d %d\n", s["x"].a, s["x"].b, self->t.a, self->t.b, s["y"].a);
	exit(0);
}
