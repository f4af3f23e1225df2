/* Escape sequences in string literals, and their length */
#pragma D option quiet

BEGIN
{
	s = "a\tb\\c\"d\'e\?f\x41\101";
	printf("%s|%d\n", s, strlen(s));
	exit(0);
}
