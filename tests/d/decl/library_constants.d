#pragma D option quiet

/*
 * The D library's integer constants (errno.d, signal.d, unistd.d,
 * regs.d, io.d, net.d, ip.d) and NULL, each an int literal.
 */
BEGIN
{
	printf("%d %d %d %d\n", EPERM, ENOENT, EDQUOT, ENOTSUP);
	printf("%d %d %d\n", SIGKILL, SIGTERM, SIGCHLD);
	printf("%d %d %d\n", DTRACEFLT_BADADDR, DTRACEFLT_DIVZERO, DTRACEFLT_BADSTACK);
	printf("%d %d %d %d\n", R_PC, R_SP, R_FP, R_RAX);
	printf("%x %x %o %o\n", B_READ, B_WRITE, O_CREAT, O_APPEND);
	printf("%d %d %d\n", AF_INET, AF_INET6, IPPROTO_UDP);
	printf("%d %d\n", NULL, sizeof(NULL));
	exit(0);
}
