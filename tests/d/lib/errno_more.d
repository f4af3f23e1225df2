/* errno.d: more names, and the aliases EWOULDBLOCK, EDEADLOCK, ENOTSUP */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", ESRCH, EINTR, EIO, EAGAIN, EWOULDBLOCK);
	printf("%d %d %d %d\n", EDEADLK, EDEADLOCK, EOPNOTSUPP, ENOTSUP);
	printf("%d %d %d %d\n", ENOMSG, EBFONT, ECANCELED, EHWPOISON);
	printf("%d %d %d %d\n", ENAMETOOLONG, ETIMEDOUT, ECONNREFUSED, ESTALE);
	exit(0);
}
