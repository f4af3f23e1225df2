/* args: -x errtags */
/* exit: 1 */
/* A conversion with no argument left is D_PRINTF_ARG_PROTO */
BEGIN
{
	printf("%d %d\n", 1);
}
