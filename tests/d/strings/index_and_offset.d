#pragma D option quiet

/*
 * A string is a char array: s[i] is its byte i, s + i the string from
 * byte i on, and a char * may hold one.
 */
char *p;

BEGIN
{
	s = "abcdef";
	i = 2;
	printf("%c %c %d\n", s[0], s[i], s[6]);
	printf("%s|%s|%s\n", s + 1, s + i, s + 6);
	p = probeprov;
	printf("%c%c%c\n", p[0], p[1], probename[0]);
	exit(0);
}
