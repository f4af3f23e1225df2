#pragma D option quiet
BEGIN
{
	i = 3;
	@[i * 2] = count(); @[i + 3] = count(); @[i] = count();
	exit(0);
}
