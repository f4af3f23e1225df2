/* aggsortrev sorts by value, largest first */
#pragma D option aggsortrev
#pragma D option quiet

BEGIN
{
	@[1] = sum(10);
	@[2] = sum(30);
	@[3] = sum(20);
	exit(0);
}
