#pragma D option quiet
BEGIN
{
	printf("%d %d %d\n", pid == tid || pid != tid, pid > 0, uid == 0);
	exit(0);
}
