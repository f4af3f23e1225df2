//! Loading what a VM runs into guest memory: a Linux kernel (64-bit boot
//! protocol) or a flat 64-bit payload. Either way the result is an
//! [`Entry`]: where the boot vCPU starts and what it finds in its registers.
//! A Linux guest also gets an MP table (`mptable`) and ACPI tables
//! (`acpi`) describing its vCPUs, interrupt wiring and devices: kernels
//! read one or the other.

pub mod acpi;
pub mod linux;
pub mod mptable;
pub mod payload;

use std::path::PathBuf;

/// What a VM boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootSource {
    /// A Linux kernel (bzImage or ELF vmlinux), with an optional initrd
    /// and the kernel command line.
    Linux {
        kernel: PathBuf,
        initrd: Option<PathBuf>,
        cmdline: String,
    },
    /// A flat 64-bit image loaded at 1 MiB and entered at its first byte,
    /// with `cmdline` passed by address in `rsi`.
    Payload { image: PathBuf, cmdline: String },
}

/// Where the boot vCPU starts: its instruction pointer, stack, and the two
/// argument registers the boot mode defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub rip: u64,
    pub rsp: u64,
    pub rdi: u64,
    pub rsi: u64,
}

/// Why a VM could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: image of {size} bytes does not fit in guest RAM of {ram} bytes at 0x{at:x}")]
    TooBig {
        path: PathBuf,
        size: u64,
        ram: u64,
        at: u64,
    },
    #[error("{path}: empty image")]
    Empty { path: PathBuf },
    #[error("command line is {len} bytes; the limit is {max}")]
    CmdlineTooLong { len: usize, max: usize },
    #[error("{path}: initrd of {size} bytes does not fit between the kernel's end (0x{lowest:x}) and the highest address it may occupy (0x{limit:x})")]
    InitrdTooBig {
        path: PathBuf,
        size: u64,
        lowest: u64,
        limit: u64,
    },
    #[error("{path}: not a kernel Lumen can boot: {why}")]
    Kernel { path: PathBuf, why: String },
    #[error("writing boot structures into guest memory: {0}")]
    Memory(#[from] vm_memory::GuestMemoryError),
    #[error(transparent)]
    MpTable(#[from] mptable::MpTableError),
    #[error(transparent)]
    Acpi(#[from] acpi::AcpiError),
}
