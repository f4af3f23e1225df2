/* A string built at run time finds the same associative array entry */
#pragma D option quiet

BEGIN
{
	a["k1"] = 5;
	a[strjoin("k", "2")] = 6;
	printf("%d %d %d\n", a[strjoin("k", "1")], a["k2"], a[substr("k3x", 0, 2)]);
	exit(0);
}
