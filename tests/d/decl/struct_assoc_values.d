#pragma D option quiet
/* Structs as associative-array and thread-local values: stored whole,
   read back by member; an absent element reads as zeros. */
struct pair { int a; int b; };
struct pair p;

BEGIN
{
	p.a = 1;
	p.b = 2;
	s["one"] = p;
	p.a = 10;
	s["ten"] = p;
	self->t = p;
	printf("%d %d %d %d %d %d\n", s["one"].a, s["one"].b, s["ten"].a,
	    s["none"].b, self->t.a, self->t.b);
	exit(0);
}
