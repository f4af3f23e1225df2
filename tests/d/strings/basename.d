/* basename( ) as dtrace.c: trailing slashes ignored, "" is "." */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", basename("/usr/bin/ls"));
	printf("[%s]\n", basename("/usr/bin/"));
	printf("[%s]\n", basename("ls"));
	printf("[%s]\n", basename("/"));
	printf("[%s]\n", basename(""));
	printf("[%s]\n", basename("//a//b//"));
	printf("[%s]\n", basename("a/"));
	printf("[%s]\n", basename("."));
	printf("[%s]\n", basename(".."));
	printf("[%s]\n", basename("/a"));
	printf("[%s]\n", basename("a//b"));
	printf("[%s]\n", basename("///"));
	exit(0);
}
