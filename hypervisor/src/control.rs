//! How a VM ends: the first vCPU or device to decide records a [`VmExit`],
//! and every vCPU thread sees `stopping()` and leaves its run loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

/// Why a VM stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VmExit {
    /// The guest wrote `status` to the exit port.
    Status(u32),
    /// Every vCPU executed HLT with interrupts off: nothing can wake them.
    Halted,
    /// The guest asked for a reset (i8042 pulse, or Linux's triple-fault reboot).
    Reset,
    /// The guest powered off (a KVM system event).
    PowerOff,
    /// The guest crashed: a triple fault in a payload, a failed VM entry,
    /// or an instruction KVM could not emulate.
    Fault { vcpu: u8, what: String },
    /// The VMM itself failed while the guest ran.
    VmmError(String),
    /// Stopped from outside (a signal to the VMM, or `vmadm stop`).
    Stopped,
}

impl std::fmt::Display for VmExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmExit::Status(s) => write!(f, "guest exited with status {s}"),
            VmExit::Halted => f.write_str("guest halted"),
            VmExit::Reset => f.write_str("guest reset"),
            VmExit::PowerOff => f.write_str("guest powered off"),
            VmExit::Fault { vcpu, what } => write!(f, "guest fault on vCPU {vcpu}: {what}"),
            VmExit::VmmError(e) => write!(f, "VMM error: {e}"),
            VmExit::Stopped => f.write_str("stopped"),
        }
    }
}

/// Shared by the vCPU threads, the devices and the thread that waits for the VM.
#[derive(Default)]
pub struct VmControl {
    exit: Mutex<Option<VmExit>>,
    done: Condvar,
    stopping: AtomicBool,
}

impl VmControl {
    pub fn new() -> VmControl {
        VmControl::default()
    }

    /// Stop the VM for `why`, unless it is already stopping (the first
    /// reason is the one reported). Returns whether this call decided.
    pub fn request(&self, why: VmExit) -> bool {
        let mut exit = crate::lock::lock(&self.exit);
        if exit.is_some() {
            return false;
        }
        *exit = Some(why);
        self.stopping.store(true, Ordering::SeqCst);
        self.done.notify_all();
        true
    }

    /// Whether vCPUs should leave their run loops.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Block until some thread stops the VM, and return why.
    pub fn wait(&self) -> VmExit {
        let mut exit = crate::lock::lock(&self.exit);
        loop {
            if let Some(why) = exit.as_ref() {
                return why.clone();
            }
            exit = self.done.wait(exit).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Why the VM stopped, if it has.
    pub fn exit(&self) -> Option<VmExit> {
        crate::lock::lock(&self.exit).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins() {
        let c = std::sync::Arc::new(VmControl::new());
        assert!(!c.stopping());
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.wait());
        assert!(c.request(VmExit::Status(3)));
        assert!(!c.request(VmExit::Halted));
        assert_eq!(t.join().unwrap(), VmExit::Status(3));
        assert!(c.stopping());
    }
}
