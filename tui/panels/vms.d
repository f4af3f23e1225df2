/*
 * lumen top: the VMs panel. A VM is a kvm-brand zone whose init is the
 * Lumen VMM, so KVM's probes firing in its vCPU threads carry the VM's
 * zone as `zonename`. The panel reads, by name:
 *
 *   @exits[zonename, reason]     KVM_RUN returns to the VMM, by KVM's exit
 *                                reason (KVM_EXIT_IO = 2, HLT = 5, MMIO = 6…);
 *                                the panel shows exits/s and names them.
 *   @handling[zonename, reason]  how long the VMM took to handle the exit:
 *                                from kvm:::userspace-exit to the vCPU
 *                                thread's next ioctl(2), KVM_RUN again (ns).
 *   @kernel[zonename, reason]    exits handled inside the kernel, from
 *                                kvm:::exit to kvm:::entry (hardware exit
 *                                reason). Only VMX/SVM hosts fire these; on
 *                                PVM hosts the aggregation stays empty.
 */

kvm:::userspace-exit
{
	@exits[zonename, args[0]] = count();
	self->exit_ts = timestamp;
	self->reason = args[0];
}

syscall::ioctl:entry
/self->exit_ts/
{
	@handling[zonename, self->reason] =
	    llquantize(timestamp - self->exit_ts, 10, 2, 9, 10);
	self->exit_ts = 0;
}

kvm:::exit
{
	self->kexit_ts = timestamp;
	self->kreason = args[0];
}

kvm:::entry
/self->kexit_ts/
{
	@kernel[zonename, self->kreason] =
	    llquantize(timestamp - self->kexit_ts, 10, 2, 9, 10);
	self->kexit_ts = 0;
}
