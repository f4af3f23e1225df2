/* A declared D array: zero-filled, indexed by constants or variables */
#pragma D option quiet

int a[5];

BEGIN
{
	i = 2;
	a[i] = 7;
	a[0] = -1;
	a[4] = a[i] * 2;
	printf("%d %d %d %d %d\n", a[0], a[1], a[2], a[4], sizeof (a));
	exit(0);
}
