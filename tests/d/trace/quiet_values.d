#pragma D option quiet
BEGIN
{
	trace(42);
	trace("abc");
	trace(-7);
	printf("\n");
	exit(0);
}
