/* A declared associative array reads 0 for keys never stored */
#pragma D option quiet

int a[string];

BEGIN
{
	printf("%d\n", a["nope"]);
	a["x"] = 3;
	printf("%d %d\n", a["x"], a["y"]);
	exit(0);
}
