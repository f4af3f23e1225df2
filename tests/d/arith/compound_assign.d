#pragma D option quiet
BEGIN
{
	x = 5;
	x++; ++x; x--;
	x += 3; x -= 1; x *= 2; x /= 3; x %= 5; x <<= 2; x >>= 1; x |= 1; x &= 7; x ^= 2;
	printf("%d\n", x);
	exit(0);
}
