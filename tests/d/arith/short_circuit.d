/* && || and ?: skip the side they do not need: no division by zero */
#pragma D option quiet

BEGIN
{
	z = 0;
	printf("%d %d %d\n", 0 && 10 / z, 1 || 10 / z, z == 0 ? -1 : 10 / z);
	exit(0);
}
