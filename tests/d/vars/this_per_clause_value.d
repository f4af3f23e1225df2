/* A clause-local assigned in each clause holds that clause's value */
#pragma D option quiet

BEGIN
{
	this->v = 1;
	printf("%d\n", this->v);
}

BEGIN
{
	this->v = this->v + 10;
	printf("%d\n", this->v);
	exit(0);
}
