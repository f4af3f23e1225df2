/* User types, inlines, enums and translators in D. */
typedef struct point {
	int x;
	int y;
	unsigned flags : 3;
	unsigned kind : 5;
} point_t;

enum color { RED, GREEN = 4, BLUE };

inline int TWICE_GREEN = GREEN * 2;

struct ident {
	int id;
	string name;
};

translator struct ident < point_t *p > {
	id = p->x + p->y;
	name = "point";
};

point_t origin;
self int depth;
this string label;

BEGIN
{
	origin.x = 3;
	origin.y = BLUE;
	this->label = "origin";
	printf("%s %d %d %d %d\n", this->label, origin.x, origin.y, TWICE_GREEN,
	    sizeof (point_t));
	printf("%d %d\n", offsetof(point_t, y), (int)sizeof (struct ident));
	exit(0);
}
