#pragma D option quiet
BEGIN
{
	this->x = 5;
	this->s = "local";
	printf("%d %s\n", this->x * 2, this->s);
	exit(0);
}
