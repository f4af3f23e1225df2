/* args: -x errtags */
/* exit: 1 */
/* A character constant holds at most 8 bytes */
BEGIN
{
	trace('abcdefghi');
}
