#pragma D option quiet
/* Declared D arrays of several element types: each element stored and
   read back at its width, neighbours untouched, ++ and += in place. */
char c[4];
short s[3];
uint64_t u[2];

BEGIN
{
	c[1] = 'x';
	c[2] = 300;
	s[0] = -2;
	s[2] = 70000;
	u[1] = 0xffffffffffffffff;
	i = 1;
	u[i - 1] += 5;
	s[i]++;
	printf("%d %c %d %d | %d %d %d | %u %u\n", c[0], c[1], c[2], c[3],
	    s[0], s[1], s[2], u[0], u[1]);
	exit(0);
}
