/* args: -x errtags */
/* exit: 1 */
/*
 * Declarations and pragmas alone are no program: D_EMPTY, at the last
 * line.
 */
#pragma D option quiet
int x;
