/* uint32_t minus an int stays uint32_t and wraps; int + int stays int */
#pragma D option quiet

BEGIN
{
	x = (uint32_t)0;
	y = x - 1;
	i = 2147483647;
	j = i + 1;
	printf("%d %d %d %d\n", y, sizeof (y), j, sizeof (j));
	exit(0);
}
