//! The `vmm` provider: the virtual machine monitor's vCPU exits and devices.
//!
//! `vm` is the VM id and `vcpu` the vCPU index; `write` is 1 for a guest
//! write and 0 for a read.

crate::provider! {
    /// Lumen's VMM.
    vmm {
        /// A vCPU exited to user space (`reason` is KVM's `exit_reason`).
        fn exit__entry(vm: u64, vcpu: u32, reason: u32);
        /// The VMM handled the exit and re-enters the guest.
        fn exit__return(vm: u64, vcpu: u32, reason: u32);
        /// A port I/O exit: `size` bytes at `port`.
        fn pio(vm: u64, vcpu: u32, port: u64, size: u32, write: u32);
        /// An MMIO exit: `size` bytes at guest-physical `addr`.
        fn mmio(vm: u64, vcpu: u32, addr: u64, size: u32, write: u32);
        /// The guest notified virtqueue `queue` of virtio device `device`.
        fn virtio__notify(vm: u64, device: u32, queue: u32);
        /// A block request starts: `bytes` at `sector`.
        fn blk__start(vm: u64, device: u32, sector: u64, bytes: u32, write: u32);
        /// A block request is done; `error` is 0 or an errno, `latency_ns`
        /// the time since its `blk-start`.
        fn blk__done(vm: u64, device: u32, sector: u64, bytes: u32, error: i32, latency_ns: u64);
        /// The guest sent a frame of `bytes` on net device `device`.
        fn net__tx(vm: u64, device: u32, bytes: u32);
        /// A frame of `bytes` was delivered to the guest.
        fn net__rx(vm: u64, device: u32, bytes: u32);
    }
}
