//! The VM's devices and the two buses (port I/O and MMIO) that route a
//! vCPU's exit to the device owning the address.

pub mod bus;
pub mod legacy;
pub mod virtio;

pub use bus::{Bus, BusDevice};
