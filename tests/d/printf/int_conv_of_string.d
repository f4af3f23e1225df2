/* args: -x errtags */
/* exit: 1 */
/* %d of a string is D_PRINTF_ARG_TYPE */
BEGIN
{
	printf("%d\n", "abc");
}
