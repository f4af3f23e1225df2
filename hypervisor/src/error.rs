//! Why a VM could not be built or run.

use crate::boot::BootError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum VmmError {
    #[error("cannot open /dev/kvm: {0} (is the kvm module loaded, and are you root?)")]
    OpenKvm(kvm_ioctls::Error),
    #[error("KVM refused to {what}: {source}")]
    Kvm {
        what: String,
        source: kvm_ioctls::Error,
    },
    #[error("KVM set {set} of the {wanted} boot MSRs of vCPU {vcpu}: it refused MSR 0x{msr:x}")]
    Msr {
        vcpu: u8,
        msr: u32,
        set: usize,
        wanted: usize,
    },
    #[error("cannot allocate {mib} MiB of guest memory: {why}")]
    Memory { mib: u64, why: String },
    #[error(transparent)]
    Boot(#[from] BootError),
    #[error("disk {path}: {source}")]
    Disk {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nic {index} (tap {tap}): {source}")]
    Tap {
        index: usize,
        tap: String,
        source: std::io::Error,
    },
    #[error("bad VM configuration: {0}")]
    Config(String),
    #[error("cannot start a VMM thread: {0}")]
    Thread(std::io::Error),
}

/// A KVM error with what was being asked of KVM.
pub fn kvm_err(what: impl Into<String>) -> impl FnOnce(kvm_ioctls::Error) -> VmmError {
    let what = what.into();
    move |source| VmmError::Kvm { what, source }
}
