/*
 * VM exits of one Lumen VMM: how many of each reason, how long the VMM
 * took to handle them (exit-entry to exit-return), and which ports the
 * guest's port I/O went to. Run on a VM:
 *   lumen dtrace -s examples/vmexits.d -p VMM_PID      (until Ctrl-C)
 *   lumen dtrace -s examples/vmexits.d -c 'lumen vmm --payload guest.bin'
 * `lumen vmadm exitstat UUID` prints the same as perf kvm stat's table.
 */
#pragma D option quiet

BEGIN
{
	reason[2] = "IO";
	reason[5] = "HLT";
	reason[6] = "MMIO";
	reason[8] = "SHUTDOWN";
	reason[10] = "INTR";
	reason[17] = "INTERNAL_ERROR";
	reason[24] = "SYSTEM_EVENT";
}

vmm$target:::exit-entry
{
	self->ts = timestamp;
}

vmm$target:::exit-return
/self->ts/
{
	@exits[reason[arg2]] = count();
	@handled[reason[arg2]] = quantize(timestamp - self->ts);
	self->ts = 0;
}

vmm$target:::pio
{
	@ports[arg2, arg4 ? "out" : "in"] = count();
}

END
{
	printf("%-16s %10s\n", "REASON", "EXITS");
	printa("%-16s %@10d\n", @exits);
	printf("\nhandling time (ns) by reason:\n");
	printa(@handled);
	printf("%-8s %-4s %10s\n", "PORT", "DIR", "ACCESSES");
	printa("0x%-6x %-4s %@10d\n", @ports);
}
