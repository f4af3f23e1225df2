/* A char array member is a string for %s; its bytes can be set one by one */
#pragma D option quiet

struct rec {
	char name[8];
	int n;
};

struct rec r;

BEGIN
{
	r.name[0] = 'h';
	r.name[1] = 'i';
	r.n = 2;
	printf("%s %d %d %d\n", r.name, r.n, sizeof (r), offsetof(struct rec, n));
	exit(0);
}
