#pragma D option quiet

/*
 * A name first used by ++ or -- is a global int64_t that starts at 0, as
 * DTrace declares it implicitly.
 */
BEGIN
{
	n++;
	n++;
	--m;
	printf("%d %d %d\n", n, m, sizeof(n));
	exit(0);
}
