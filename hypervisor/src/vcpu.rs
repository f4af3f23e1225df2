//! A vCPU thread's run loop: enter the guest, and on each exit to user
//! space fire `vmm:::exit-entry`, route port I/O and MMIO to the buses
//! (firing `vmm:::pio` / `vmm:::mmio`), decide whether the VM goes on, and
//! fire `vmm:::exit-return`.

use crate::control::{VmControl, VmExit};
use crate::devices::Bus;
use kvm_bindings::{
    KVM_EXIT_DEBUG, KVM_EXIT_EXCEPTION, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_HYPERCALL,
    KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_INTR, KVM_EXIT_IO, KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_MMIO,
    KVM_EXIT_SHUTDOWN, KVM_EXIT_SYSTEM_EVENT, KVM_EXIT_UNKNOWN, KVM_SYSTEM_EVENT_CRASH,
    KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN,
};
use kvm_ioctls::{VcpuExit, VcpuFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What every vCPU thread of a VM shares.
pub struct VcpuShared {
    pub vm: u64,
    pub pio: Bus,
    pub mmio: Bus,
    pub control: Arc<VmControl>,
    /// vCPUs that executed HLT with no way to be woken.
    pub halted: AtomicUsize,
    pub vcpus: usize,
    /// Whether a triple fault means "reboot" (Linux) or "crash" (payloads).
    pub triple_fault_resets: bool,
}

/// What one exit means for the vCPU.
enum Next {
    Run,
    /// This vCPU stops; the VM goes on if others still run.
    Halt,
    /// The VM stops.
    Stop(VmExit),
    /// The VM stops for a fault; the message wants the guest's rip.
    Fault(String),
}

/// KVM's number for an exit (the `exit_reason` of `struct kvm_run`).
pub fn exit_reason(exit: &VcpuExit) -> u32 {
    match exit {
        VcpuExit::IoIn(..) | VcpuExit::IoOut(..) => KVM_EXIT_IO,
        VcpuExit::MmioRead(..) | VcpuExit::MmioWrite(..) => KVM_EXIT_MMIO,
        VcpuExit::Hlt => KVM_EXIT_HLT,
        VcpuExit::Shutdown => KVM_EXIT_SHUTDOWN,
        VcpuExit::FailEntry(..) => KVM_EXIT_FAIL_ENTRY,
        VcpuExit::InternalError => KVM_EXIT_INTERNAL_ERROR,
        VcpuExit::SystemEvent(..) => KVM_EXIT_SYSTEM_EVENT,
        VcpuExit::IrqWindowOpen => KVM_EXIT_IRQ_WINDOW_OPEN,
        VcpuExit::Exception => KVM_EXIT_EXCEPTION,
        VcpuExit::Hypercall(..) => KVM_EXIT_HYPERCALL,
        VcpuExit::Debug(..) => KVM_EXIT_DEBUG,
        VcpuExit::Intr => KVM_EXIT_INTR,
        _ => KVM_EXIT_UNKNOWN,
    }
}

/// KVM's exit reasons by number, as `perf kvm stat` and the
/// `kvm_userspace_exit` tracepoint name them (without `KVM_EXIT_`).
const EXIT_REASON_NAMES: [&str; 31] = [
    "UNKNOWN",
    "EXCEPTION",
    "IO",
    "HYPERCALL",
    "DEBUG",
    "HLT",
    "MMIO",
    "IRQ_WINDOW_OPEN",
    "SHUTDOWN",
    "FAIL_ENTRY",
    "INTR",
    "SET_TPR",
    "TPR_ACCESS",
    "S390_SIEIC",
    "S390_RESET",
    "DCR",
    "NMI",
    "INTERNAL_ERROR",
    "OSI",
    "PAPR_HCALL",
    "S390_UCONTROL",
    "WATCHDOG",
    "S390_TSCH",
    "EPR",
    "SYSTEM_EVENT",
    "S390_STSI",
    "IOAPIC_EOI",
    "HYPERV",
    "ARM_NISV",
    "X86_RDMSR",
    "X86_WRMSR",
];

/// The name of a user-space exit reason (`IO`, `MMIO`, …); `UNKNOWN` for
/// numbers this table does not know.
pub fn exit_reason_name(reason: u32) -> &'static str {
    EXIT_REASON_NAMES
        .get(reason as usize)
        .copied()
        .unwrap_or("UNKNOWN")
}

/// Run vCPU `index` until the VM stops or this vCPU halts.
pub fn run(mut vcpu: VcpuFd, index: u8, shared: &VcpuShared) {
    let vm = shared.vm;
    let vcpu_id = u32::from(index);
    while !shared.control.stopping() {
        let result = vcpu.run();
        let (reason, next) = match result {
            Ok(exit) => {
                let reason = exit_reason(&exit);
                probes::vmm::exit__entry(|| (vm, vcpu_id, reason));
                (reason, handle(exit, vcpu_id, shared))
            }
            Err(e) if e.errno() == libc::EINTR => {
                // A kick from the VMM (to stop) or a stray signal; KVM
                // reports it as an error, perf as the INTR exit.
                probes::vmm::exit__entry(|| (vm, vcpu_id, KVM_EXIT_INTR));
                vcpu.set_kvm_immediate_exit(0);
                (KVM_EXIT_INTR, Next::Run)
            }
            Err(e) if e.errno() == libc::EAGAIN => continue,
            Err(e) => {
                shared.control.request(VmExit::VmmError(format!(
                    "vCPU {index}: KVM_RUN failed: {e}"
                )));
                return;
            }
        };
        let stop = match next {
            Next::Run => None,
            Next::Halt => {
                let halted = shared.halted.fetch_add(1, Ordering::SeqCst) + 1;
                Some((halted == shared.vcpus).then_some(VmExit::Halted))
            }
            Next::Stop(why) => Some(Some(why)),
            Next::Fault(what) => {
                let rip = vcpu
                    .get_regs()
                    .map(|r| format!(" at rip 0x{:x}", r.rip))
                    .unwrap_or_default();
                Some(Some(VmExit::Fault {
                    vcpu: index,
                    what: format!("{what}{rip}"),
                }))
            }
        };
        probes::vmm::exit__return(|| (vm, vcpu_id, reason));
        if let Some(why) = stop {
            if let Some(why) = why {
                shared.control.request(why);
            }
            return;
        }
    }
}

fn handle(exit: VcpuExit, vcpu: u32, shared: &VcpuShared) -> Next {
    let vm = shared.vm;
    match exit {
        VcpuExit::IoOut(port, data) => {
            probes::vmm::pio(|| (vm, vcpu, u64::from(port), data.len() as u32, 1));
            shared.pio.write(u64::from(port), data);
            Next::Run
        }
        VcpuExit::IoIn(port, data) => {
            probes::vmm::pio(|| (vm, vcpu, u64::from(port), data.len() as u32, 0));
            if !shared.pio.read(u64::from(port), data) {
                // No device: the bus floats high, as on a PC.
                data.fill(0xff);
            }
            Next::Run
        }
        VcpuExit::MmioWrite(addr, data) => {
            probes::vmm::mmio(|| (vm, vcpu, addr, data.len() as u32, 1));
            shared.mmio.write(addr, data);
            Next::Run
        }
        VcpuExit::MmioRead(addr, data) => {
            probes::vmm::mmio(|| (vm, vcpu, addr, data.len() as u32, 0));
            if !shared.mmio.read(addr, data) {
                data.fill(0xff);
            }
            Next::Run
        }
        // Only without an in-kernel irqchip does HLT reach user space, and
        // then with no interrupt source nothing can wake the vCPU.
        VcpuExit::Hlt => Next::Halt,
        VcpuExit::Shutdown if shared.triple_fault_resets => Next::Stop(VmExit::Reset),
        VcpuExit::Shutdown => {
            Next::Fault("triple fault (an exception the guest could not handle)".into())
        }
        VcpuExit::SystemEvent(kind, _) => match kind {
            KVM_SYSTEM_EVENT_SHUTDOWN => Next::Stop(VmExit::PowerOff),
            KVM_SYSTEM_EVENT_RESET => Next::Stop(VmExit::Reset),
            KVM_SYSTEM_EVENT_CRASH => Next::Fault("guest reported a crash".into()),
            other => Next::Fault(format!("unknown system event {other}")),
        },
        VcpuExit::FailEntry(reason, cpu) => Next::Fault(format!(
            "VM entry failed (hardware reason 0x{reason:x} on host CPU {cpu})"
        )),
        VcpuExit::InternalError => {
            Next::Fault("KVM internal error (an instruction KVM could not emulate)".into())
        }
        VcpuExit::IrqWindowOpen | VcpuExit::Intr => Next::Run,
        other => Next::Fault(format!("unexpected exit {other:?}")),
    }
}
