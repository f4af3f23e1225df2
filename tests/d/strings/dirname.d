/* dirname( ) as dtrace.c: no slash gives ".", only slashes "/" */
#pragma D option quiet

BEGIN
{
	printf("[%s]\n", dirname("/usr/bin/ls"));
	printf("[%s]\n", dirname("/usr/bin/"));
	printf("[%s]\n", dirname("ls"));
	printf("[%s]\n", dirname("/"));
	printf("[%s]\n", dirname(""));
	printf("[%s]\n", dirname("//a//b//"));
	printf("[%s]\n", dirname("a/"));
	printf("[%s]\n", dirname("."));
	printf("[%s]\n", dirname(".."));
	printf("[%s]\n", dirname("/a"));
	printf("[%s]\n", dirname("a//b"));
	printf("[%s]\n", dirname("///"));
	exit(0);
}
