/* a NULL result compares equal to "" */
#pragma D option quiet

BEGIN
{
	printf("%d\n", strchr("abc", 'z') == "");
	printf("%d\n", strstr("abc", "z") == "");
	printf("%d\n", strchr("abc", 'b') == "bc");
	printf("%d\n", strrchr("abc", 'a') != "abc");
	exit(0);
}
