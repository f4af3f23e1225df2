#pragma D option quiet
int64_t big;
uint8_t small;

BEGIN
{
	big = 1;
	big <<= 40;
	small = 255;
	small++;
	printf("%d %d\n", big, small);
	exit(0);
}
