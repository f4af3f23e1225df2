/* %s with width and precision together; a width never cuts */
#pragma D option quiet

BEGIN
{
	s = "abcdef";
	printf("[%-8.3s][%8.3s][%.10s][%3s]\n", s, s, s, s);
	exit(0);
}
