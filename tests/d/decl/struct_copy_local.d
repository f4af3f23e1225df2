#pragma D option quiet
/* A struct copied into a clause-local: later changes to the global do not show. */
struct pair { int a; int b; };
struct pair p;
BEGIN
{
	p.a = 3; p.b = 4;
	this->q = p;
	p.b = 40;
	printf("%d %d %d\n", this->q.a, this->q.b, p.b);
	exit(0);
}
