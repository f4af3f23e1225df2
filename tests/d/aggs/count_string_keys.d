#pragma D option quiet
BEGIN
{
	@c["a"] = count(); @c["a"] = count(); @c["b"] = count();
	@c["c"] = count(); @c["c"] = count(); @c["c"] = count();
	exit(0);
}
