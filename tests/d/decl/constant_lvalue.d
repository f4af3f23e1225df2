/* args: -x errtags */
/* exit: 1 */

/* A library constant is a literal: not assignable. */
BEGIN
{
	EPERM = 3;
}
