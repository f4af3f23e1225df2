/* Negative and large integer keys are distinct entries */
#pragma D option quiet

BEGIN
{
	a[-1] = 1;
	a[1] = 2;
	a[0x7fffffff] = 3;
	printf("%d %d %d %d\n", a[-1], a[1], a[2147483647], a[-2]);
	exit(0);
}
