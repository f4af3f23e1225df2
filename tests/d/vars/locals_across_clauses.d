#pragma D option quiet
BEGIN
{
	this->v = 4;
}

BEGIN
{
	printf("%d\n", this->v + 1);
	exit(0);
}
