/* A byte stored through char * reads back signed, through uint8_t * not */
#pragma D option quiet

BEGIN
{
	c = (char *)alloca(2);
	c[0] = -1;
	c[1] = 200;
	u = (uint8_t *)c;
	printf("%d %d %d %d\n", c[0], c[1], u[0], u[1]);
	exit(0);
}
