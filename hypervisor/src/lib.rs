//! Lumen's virtual machine monitor: a KVM VMM in the spirit of Firecracker.
//!
//! Where it sits: `vmadm` starts a `kvm`-brand zone whose init command
//! (under the zone's zsched) is `lumen vmm`, which builds a [`Vm`] from a [`VmConfig`] and runs it. Every
//! exit to user space and every device operation fires a static probe of
//! the `vmm` provider (the `probes` crate), so `lumen dtrace` sees the VM
//! from the VMM's side, as the `kvm` provider sees it from the kernel's.
//!
//! Data flow: config → guest memory and boot image (`boot`) → long-mode
//! vCPU state (`cpu`) → devices on the port and MMIO buses (`devices`) →
//! vCPU threads (`vcpu`) → a [`VmExit`] saying how it ended (`control`).
//! The console (`console`) fans the serial and virtio console output out
//! to a log and to the clients of a Unix socket, and brings their input back.

pub mod boot;
pub mod console;
pub mod control;
pub mod cpu;
pub mod devices;
pub mod error;
pub mod guests;
pub mod layout;
pub mod lock;
pub mod vcpu;
pub mod vm;

pub use boot::BootSource;
pub use console::{attach, ConsoleError, ConsoleHub, ConsoleInput, ConsoleSocket};
pub use control::{VmControl, VmExit};
pub use devices::virtio::metrics::VmMetrics;
pub use error::VmmError;
pub use vm::{DiskConfig, NicConfig, Vm, VmConfig};
