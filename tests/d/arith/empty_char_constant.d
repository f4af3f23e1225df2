/* args: -x errtags */
/* exit: 1 */
/* '' is no character constant */
BEGIN
{
	trace('');
}
