/* args: -x errtags */
/* exit: 1 */
/* Reading this->y before anything assigns or declares it is D_VAR_UNDEF */
BEGIN
{
	trace(this->y);
}
