/* denormalize( ) undoes normalize( ) for the next printa( ) */
#pragma D option quiet

BEGIN
{
	@["a"] = sum(100);
	@["b"] = sum(250);
	normalize(@, 10);
	printa(@);
	denormalize(@);
	printa(@);
	exit(0);
}
