#pragma D option quiet

/* A function prototype is a declaration DTrace checks and keeps. */
int lookup(int, const char *);
extern long total(void);

BEGIN
{
	printf("declared\n");
	exit(0);
}
