/* args: -x errtags */
/* exit: 1 */
/* An empty format string is D_PRINTF_FMT_EMPTY */
BEGIN
{
	printf("");
}
