/* A char * may hold a string literal; [] and * read its bytes */
#pragma D option quiet

char *p;

BEGIN
{
	p = "xyz";
	printf("%c %c %c\n", p[1], *p, *(p + 2));
	exit(0);
}
