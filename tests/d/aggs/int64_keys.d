#pragma D option quiet
BEGIN
{
	x = (int64_t)5; y = (int64_t)-1;
	@[x] = count(); @[y] = count(); @[y] = count();
	exit(0);
}
