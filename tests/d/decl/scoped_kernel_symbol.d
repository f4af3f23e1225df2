/* backends: kernel */
#pragma D option quiet

/* module`symbol names the kernel symbol `symbol. */
BEGIN
{
	printf("%d %d\n", &vmlinux`schedule == &`schedule, &`schedule != 0);
	exit(0);
}
