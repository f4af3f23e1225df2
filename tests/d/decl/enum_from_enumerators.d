#pragma D option quiet

/* An enumerator's value may use the enumerators before it. */
enum colour {
	RED = 1,
	GREEN = RED * 4,
	BLUE,
	ALL = RED | GREEN | BLUE
};

BEGIN
{
	printf("%d %d %d %d\n", RED, GREEN, BLUE, ALL);
	exit(0);
}
