/* Integer keys compare unsigned: -1 sorts after 2 on ties */
#pragma D option quiet

BEGIN
{
	@[(int64_t)-1] = count();
	@[(int64_t)2] = count();
	@[(int64_t)0] = count();
	exit(0);
}
