/* s + i is the string from byte i on, and keeps the string type */
#pragma D option quiet

BEGIN
{
	s = "hello";
	t = s + 1;
	printf("%s %c %d %d\n", t, t[0], strlen(t), (s + 2) == "llo");
	printf("[%s] %d\n", s + 5, strlen(s + 5));
	exit(0);
}
