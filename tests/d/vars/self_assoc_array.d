/* A thread-local associative array: self->a[key] */
#pragma D option quiet

BEGIN
{
	self->a["k"] = 3;
	self->a["j"] = 4;
	printf("%d %d\n", self->a["k"] + self->a["j"], self->a["none"]);
	self->a["k"] = 0;
	printf("%d\n", self->a["k"]);
	exit(0);
}
