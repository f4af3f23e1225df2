/* regs.d (x86_64): uregs[] indices and their aliases */
#pragma D option quiet

BEGIN
{
	printf("%d %d %d %d %d\n", R_R15, R_RBP, R_RBX, R_RAX, R_RDI);
	printf("%d %d %d %d %d %d\n", R_RIP, R_CS, R_RFL, R_RSP, R_SS, R_TRAPNO);
	printf("%d %d %d %d %d\n", R_EAX, R_EIP, R_PS, R_R0, R_R1);
	exit(0);
}
