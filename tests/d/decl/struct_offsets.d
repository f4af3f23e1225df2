/* Struct members are placed at their natural alignment */
#pragma D option quiet

struct a {
	char c;
	int i;
	char d;
	int64_t l;
};

struct b {
	char c;
	int64_t l;
};

struct c {
	short s;
	char c[2];
};

BEGIN
{
	printf("%d %d %d %d\n", offsetof(struct a, c), offsetof(struct a, i),
	    offsetof(struct a, d), offsetof(struct a, l));
	printf("%d %d %d\n", sizeof (struct a), sizeof (struct b), sizeof (struct c));
	printf("%d\n", offsetof(struct c, c));
	exit(0);
}
