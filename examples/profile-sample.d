/* Sample on-CPU processes at 997 Hz; print the busiest every 5 seconds. */
#pragma D option quiet

profile-997
/arg0/
{
	@kernel[execname] = count();
}

profile-997
/arg1/
{
	@user[execname, pid] = count();
}

tick-5sec
{
	printf("%Y\n", walltimestamp);
	printa("  kernel %-24s %@u\n", @kernel);
	printa("  user   %-24s %-8d %@u\n", @user);
	clear(@kernel);
	clear(@user);
}
