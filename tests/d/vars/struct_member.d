#pragma D option quiet
struct pair { int a; int64_t b; };
struct pair p;

BEGIN
{
	p.a = 3;
	p.b = 4;
	printf("%d %d %d\n", p.a, p.b, sizeof (struct pair));
	exit(0);
}
