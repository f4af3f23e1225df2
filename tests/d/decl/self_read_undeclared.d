/* args: -x errtags */
/* exit: 1 */
/* Reading self->x before anything assigns or declares it is D_VAR_UNDEF */
BEGIN
{
	trace(self->x);
}
