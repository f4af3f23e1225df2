/* int vs unsigned int compares unsigned; int64_t vs unsigned int signed */
#pragma D option quiet

BEGIN
{
	a = -1; b = 1u; c = (int64_t)-1; d = (uint64_t)1;
	printf("%d %d %d\n", a < b, c < b, d > a);
	exit(0);
}
