//! The `kvm` provider: KVM's own tracepoints under DTrace-style names,
//! the kernel's view of every VM (Lumen's VMM adds the `vmm` provider for
//! the user-space side).
//!
//! Each probe is `kvm:::NAME` with `args[]` the tracepoint's fields, in
//! their `format` order. A probe exists when its tracepoint does: `exit`
//! and `entry` need a VMX or SVM host (on PVM and other software-assisted
//! hosts they never fire), the rest exist wherever KVM does. The probes
//! fire in the vCPU thread of the VMM, so `pid`, `tid` and `execname` name
//! the VMM and its vCPU thread, and `zonename` the VM's zone (a `kvm`-brand
//! VM runs in its own zone, whose alias is the VM's name, as on SmartOS).
//!
//! | probe | tracepoint | fires when |
//! |---|---|---|
//! | `entry` | `kvm:kvm_entry` | a vCPU enters the guest |
//! | `exit` | `kvm:kvm_exit` | a vCPU leaves the guest (hardware exit reason in `args[0]`) |
//! | `userspace-exit` | `kvm:kvm_userspace_exit` | KVM_RUN returns to the VMM (`args[0]` is KVM's `exit_reason`) |
//! | `pio` | `kvm:kvm_pio` | a port access (`rw`, `port`, `size`, `count`, `val`) |
//! | `mmio` | `kvm:kvm_mmio` | an MMIO access KVM emulates or passes to the VMM |
//! | `emulate-insn` | `kvm:kvm_emulate_insn` | KVM emulates an instruction |
//! | `hypercall` | `kvm:kvm_hypercall` | the guest makes a hypercall |
//! | `msr` | `kvm:kvm_msr` | the guest reads or writes an MSR |
//! | `cr` | `kvm:kvm_cr` | the guest writes a control register |
//! | `cpuid` | `kvm:kvm_cpuid` | the guest runs CPUID |
//! | `inj-virq` | `kvm:kvm_inj_virq` | an interrupt is injected |
//! | `page-fault` | `kvm:kvm_page_fault` | a guest page fault KVM handles |
//! | `set-irq` | `kvm:kvm_set_irq` | an interrupt line changes |
//! | `halt-poll` | `kvm:kvm_halt_poll_ns` | KVM changes a vCPU's halt-polling interval |
//! | `vcpu-wakeup` | `kvm:kvm_vcpu_wakeup` | a halted vCPU wakes |
//!
//! Probes are listed in name order.

use super::{plain_tracepoint, ProbeSpec, TracepointProvider};
use crate::tracefs::EventName;

/// The provider's name.
pub const PROVIDER: &str = "kvm";

/// Each probe's name and its `kvm` tracepoint, in listing order.
pub const PROBES: &[(&str, &str)] = &[
    ("cpuid", "kvm_cpuid"),
    ("cr", "kvm_cr"),
    ("emulate-insn", "kvm_emulate_insn"),
    ("entry", "kvm_entry"),
    ("exit", "kvm_exit"),
    ("halt-poll", "kvm_halt_poll_ns"),
    ("hypercall", "kvm_hypercall"),
    ("inj-virq", "kvm_inj_virq"),
    ("mmio", "kvm_mmio"),
    ("msr", "kvm_msr"),
    ("page-fault", "kvm_page_fault"),
    ("pio", "kvm_pio"),
    ("set-irq", "kvm_set_irq"),
    ("userspace-exit", "kvm_userspace_exit"),
    ("vcpu-wakeup", "kvm_vcpu_wakeup"),
];

/// The `kvm` probes whose tracepoints are among `events`.
pub fn probes(events: &[EventName]) -> Vec<ProbeSpec> {
    PROBES
        .iter()
        .filter_map(|&(name, event)| {
            let ev = events
                .iter()
                .find(|e| e.subsystem == "kvm" && e.event == event)?;
            Some(ProbeSpec::on_tracepoint(PROVIDER, "", name, ev))
        })
        .collect()
}

/// The `kvm` provider: its arguments are the tracepoint's fields.
pub const KVM: TracepointProvider = TracepointProvider {
    name: PROVIDER,
    list: probes,
    target: plain_tracepoint,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ArgSource;

    #[test]
    fn probes_exist_where_their_tracepoints_do() {
        let events = [
            EventName::new("kvm", "kvm_pio"),
            EventName::new("kvm", "kvm_userspace_exit"),
            EventName::new("sched", "sched_switch"),
        ];
        let p = probes(&events);
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["pio", "userspace-exit"]);
        assert_eq!(
            p[0].args,
            ArgSource::Tracepoint(EventName::new("kvm", "kvm_pio"))
        );
        let mut sorted: Vec<&str> = PROBES.iter().map(|p| p.0).collect();
        sorted.sort_unstable();
        assert_eq!(sorted, PROBES.iter().map(|p| p.0).collect::<Vec<_>>());
    }
}
