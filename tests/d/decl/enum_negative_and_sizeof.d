/* Enumerators count up from any value, negative too; an enum is 4 bytes */
#pragma D option quiet

enum e { A = -2, B, C = 10, D };
enum e v;

BEGIN
{
	v = D;
	printf("%d %d %d %d %d %d\n", A, B, C, D, sizeof (enum e), sizeof (v));
	printf("%d %d\n", v == D, v + 1);
	exit(0);
}
