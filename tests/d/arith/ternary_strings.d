/* ?: chooses between strings, and nests */
#pragma D option quiet

BEGIN
{
	x = 3;
	printf("%s %s\n", x > 2 ? "big" : "small",
	    x == 0 ? "zero" : x == 3 ? "three" : "other");
	s = x & 1 ? "odd" : "even";
	printf("%s %d\n", s, strlen(x < 0 ? "neg" : "nonneg"));
	exit(0);
}
