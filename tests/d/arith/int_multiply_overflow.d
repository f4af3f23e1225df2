/* int * int is an int: the product wraps at 32 bits */
#pragma D option quiet

BEGIN
{
	i = 65536;
	j = i * i;
	k = i * 32768;
	l = (int64_t)i * i;
	printf("%d %d %d\n", j, k, l);
	exit(0);
}
