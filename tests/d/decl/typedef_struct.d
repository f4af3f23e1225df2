/* A typedef of a struct names the same type, with the same size */
#pragma D option quiet

typedef struct point {
	int x;
	int y;
} point_t;

point_t p;

BEGIN
{
	p.x = 3;
	p.y = -4;
	printf("%d %d %d %d\n", p.x, p.y, sizeof (point_t), sizeof (struct point));
	exit(0);
}
