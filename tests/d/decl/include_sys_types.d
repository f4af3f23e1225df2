/* args: -C */
/* -C runs cpp as Oracle's dtrace does (-U__GNUC__, not -undef), so the
   system's headers can be included: glibc's inline functions are skipped
   and its typedefs of D's own types (id_t…) keep D's. */
#include <sys/types.h>
#include <stdint.h>
#define THREE 3
#pragma D option quiet

BEGIN
{
	x = (uint32_t)THREE;
	printf("%d %d %d\n", x, sizeof (pid_t), sizeof (off_t));
	exit(0);
}
