#pragma D option quiet

BEGIN
{
	tracemem(alloca(20), 20);
	exit(0);
}
