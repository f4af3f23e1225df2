#pragma D option quiet
BEGIN
{
	c["k"] = 0;
	c["k"]++; c["k"]++; c["k"] += 5;
	printf("%d\n", c["k"]);
	exit(0);
}
