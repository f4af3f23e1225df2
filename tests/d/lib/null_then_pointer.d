/* args: -x errtags */
/* exit: 1 */
/* x = NULL makes x an int, so a pointer may not be stored in it later */
BEGIN
{
	x = NULL;
	x = (char *)0;
}
