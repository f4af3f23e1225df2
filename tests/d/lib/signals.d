/* signal.d: signal numbers, with the aliases SIGIOT, SIGCLD and SIGPOLL */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGIOT);
	printf("%d %d %d %d\n", SIGUSR1, SIGUSR2, SIGCHLD, SIGCLD);
	printf("%d %d %d %d\n", SIGCONT, SIGSTOP, SIGIO, SIGPOLL);
	printf("%d %d %d %d\n", SIGSEGV, SIGWINCH, SIGPWR, SIGSYS);
	exit(0);
}
