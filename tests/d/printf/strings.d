#pragma D option quiet
BEGIN
{
	s = "abc";
	printf("%s|%10s|%-10s|%.2s|\n", s, s, s, "abcdef");
	exit(0);
}
