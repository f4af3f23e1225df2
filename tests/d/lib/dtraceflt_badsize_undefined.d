/* args: -x errtags */
/* exit: 1 */
/* DTRACEFLT_BADSIZE is no D library name: unistd.d stops at BADSTACK */
BEGIN
{
	trace(DTRACEFLT_BADSIZE);
}
