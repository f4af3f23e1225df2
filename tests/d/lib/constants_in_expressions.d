/* Library constants in predicates, ternaries and arithmetic */
#pragma D option quiet

BEGIN
/ENOENT == 2 && SIGSEGV == 11/
{
	printf("%s\n", EACCES == 13 ? "EACCES" : "?");
	printf("%d\n", EPERM + ENOENT * SIGKILL);
	printf("%d\n", -EINVAL);
}

BEGIN
/EPERM == 2/
{
	printf("never\n");
}

BEGIN
{
	exit(0);
}
