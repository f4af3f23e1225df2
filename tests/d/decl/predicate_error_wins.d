/* args: -x errtags */
/* exit: 1 */

/*
 * The actions fail on an unknown name, so DTrace retries with the
 * predicate first; the predicate's own error is then the one reported.
 */
BEGIN
/nosuch/
{
	trace(alsonot);
}
