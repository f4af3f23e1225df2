/* A union's members share storage; its size is its largest member's */
#pragma D option quiet

union u {
	int64_t l;
	int i;
	char c[8];
};

union u v;

BEGIN
{
	v.l = 0x0102030405060708;
	printf("%d %x %d %d\n", sizeof (union u), v.i, v.c[0], v.c[7]);
	v.i = 0;
	printf("%x\n", v.l);
	exit(0);
}
