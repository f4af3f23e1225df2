/* A struct member of struct type: layout, sizeof and member access */
#pragma D option quiet

struct pair {
	int a;
	int64_t b;
};

struct outer {
	char tag;
	struct pair p;
	int64_t s;
};

struct outer o;

BEGIN
{
	o.p.b = 7;
	o.s = -3;
	printf("%d %d %d\n", sizeof (struct outer), offsetof(struct outer, p),
	    offsetof(struct outer, s));
	printf("%d %d %d\n", o.p.b, o.p.a, o.s);
	exit(0);
}
