#pragma D option quiet

/* self and this are member names like any other after . and ->. */
struct node {
	int self;
	int this;
};

struct node n;

BEGIN
{
	n.self = 3;
	n.this = 4;
	printf("%d %d\n", n.self, n.this);
	exit(0);
}
