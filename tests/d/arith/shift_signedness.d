/* >> of a signed value is arithmetic, of an unsigned one logical */
#pragma D option quiet

BEGIN
{
	a = -1;
	b = (uint32_t)-1;
	c = -256;
	d = (uint64_t)-256;
	printf("%d %d %d %x\n", a >> 1, b >> 1, c >> 4, d >> 4);
	exit(0);
}
