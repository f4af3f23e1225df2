/* io.d: the O_* open flags (octal, x86_64) */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d\n", O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE);
	printf("%o %o %o %o\n", O_EXCL, O_NOCTTY, O_TRUNC, O_NONBLOCK);
	printf("%o %o %o %o\n", O_NDELAY, O_SYNC, O_FSYNC, O_RSYNC);
	printf("%o %o %o %o %o\n", O_DSYNC, O_ASYNC, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC);
	printf("%d\n", (O_WRONLY | O_CREAT | O_TRUNC) & O_ACCMODE);
	exit(0);
}
