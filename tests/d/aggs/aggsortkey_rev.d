/* aggsortkey with aggsortrev: keys in descending order */
#pragma D option aggsortkey
#pragma D option aggsortrev
#pragma D option quiet

BEGIN
{
	@["b"] = count();
	@["c"] = count();
	@["a"] = count();
	@["a"] = count();
	exit(0);
}
