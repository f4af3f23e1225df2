/* Assigning a struct variable copies it */
#pragma D option quiet

struct pair {
	int a;
	int b;
};

struct pair p;
struct pair q;

BEGIN
{
	p.a = 1;
	p.b = 2;
	q = p;
	p.a = 10;
	printf("%d %d %d\n", q.a, q.b, p.a);
	exit(0);
}
