/* Signed / truncates toward zero; % takes the sign of the dividend */
#pragma D option quiet

BEGIN
{
	a = -7; b = -2; c = -8; d = 3; e = 8; f = -3;
	printf("%d %d\n", a / b, a % b);
	printf("%d %d\n", c / d, c % d);
	printf("%d %d\n", e / f, e % f);
	exit(0);
}
