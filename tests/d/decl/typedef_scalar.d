/* typedefs of integer types keep their width: a byte_t wraps at 256 */
#pragma D option quiet

typedef uint8_t byte_t;
typedef int64_t big_t;

byte_t b;
big_t g;

BEGIN
{
	b = 300;
	g = 1;
	g <<= 33;
	printf("%d %d %d %d\n", b, sizeof (byte_t), g, sizeof (g));
	exit(0);
}
