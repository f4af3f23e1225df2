#pragma D option quiet
BEGIN
{
	this->c = (char)-1; this->u = (uint16_t)-1;
	printf("%d %d %d\n", this->c, this->u, this->c + this->u);
	exit(0);
}
