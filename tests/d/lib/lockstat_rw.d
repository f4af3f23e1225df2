/* lockstat.d: RW_WRITER and RW_READER */
#pragma D option quiet

BEGIN
{
	printf("%d %d\n", RW_WRITER, RW_READER);
	exit(0);
}
