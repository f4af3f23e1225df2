/* backends: kernel */
#pragma D option quiet
/* uregs[] holds the user registers the kernel saved when the thread
   entered it: BEGIN fires in the consumer's bpf(2) call, whose number
   (321 on x86-64) is the saved orig_ax, R_ERR in regs.d. */
BEGIN
{
	printf("%d %d %d %d\n", uregs[R_ERR], uregs[R_PC] != 0, uregs[R_SP] != 0,
	    uregs[R_RIP] == uregs[R_PC]);
	exit(0);
}
