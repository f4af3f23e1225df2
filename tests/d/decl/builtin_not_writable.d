/* args: -x errtags */
/* exit: 1 */
/* Built-in variables are not writable */
BEGIN
{
	pid++;
}
