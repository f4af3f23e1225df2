/* backends: kernel */
#pragma D option quiet
BEGIN
{
	printf("%d %d %d\n", progenyof(pid), progenyof(1), progenyof(-5));
	exit(0);
}
