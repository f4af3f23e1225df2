/* io.d: the B_* buffer flags */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", B_BUSY, B_DONE, B_ERROR, B_PAGEIO);
	printf("%d %d %d %d\n", B_PHYS, B_READ, B_WRITE, B_ASYNC);
	printf("%x\n", B_READ | B_ASYNC | B_DONE);
	exit(0);
}
