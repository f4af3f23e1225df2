/* args: -x errtags */
/* exit: 1 */
/* %s of an int is D_PRINTF_ARG_TYPE, with the prototype spelled out */
BEGIN
{
	printf("%s\n", 1);
}
