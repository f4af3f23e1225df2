#pragma D option quiet

/*
 * Stores through a pointer held in a D variable, into alloca( )'d
 * memory: *p, p[i], p->m, ++ and compound assignment.
 */
struct s {
	int x;
	short y;
	char z;
};

BEGIN
{
	p = (int *)alloca(16);
	*p = 5;
	p[1] = 6;
	p[1]++;
	p[2] += 10;
	printf("%d %d %d %d\n", *p, p[1], p[2], p[3]);

	this->c = (char *)alloca(4);
	this->c[0] = 'D';
	this->c[1] = '!';
	printf("%s\n", stringof(this->c));

	q = (struct s *)alloca(sizeof (struct s));
	q->x = 7;
	q->y = -2;
	q->z = 3;
	printf("%d %d %d\n", q->x, q->y, q->z);
	exit(0);
}
