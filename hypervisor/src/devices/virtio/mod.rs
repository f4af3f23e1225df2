//! virtio devices over the MMIO transport (virtio 1.x, "modern" register
//! layout only): the transport in [`mmio`], the devices beside it.
//!
//! Everything a guest puts in a register or a ring is untrusted: a bad
//! value is reported on the VMM's stderr, the device is marked as needing a
//! reset (as the spec's DEVICE_NEEDS_RESET says), and the VM goes on.

pub mod block;
pub mod console;
pub mod mmio;
pub mod net;
#[cfg(test)]
pub(crate) mod test_utils;

use virtio_queue::Queue;
use vm_memory::GuestMemoryMmap;

/// virtio device ids (spec 5).
pub const TYPE_NET: u32 = 1;
pub const TYPE_BLOCK: u32 = 2;
pub const TYPE_CONSOLE: u32 = 3;

/// VIRTIO_F_VERSION_1: the only layout Lumen speaks.
pub const F_VERSION_1: u64 = 1 << 32;

/// What a device tells its transport after handling a notification.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handled {
    /// Buffers were returned to the guest: raise the used-buffer interrupt.
    pub used: bool,
}

/// A device behind a virtio-mmio transport.
pub trait VirtioDevice: Send {
    /// The virtio device id.
    fn device_type(&self) -> u32;
    /// A short name for messages (`virtio-blk0`).
    fn name(&self) -> &str;
    /// Feature bits offered (VERSION_1 included).
    fn features(&self) -> u64;
    /// The largest size of each queue; the length is the number of queues.
    fn queue_max_sizes(&self) -> &[u16];
    /// Read device configuration space at `offset`.
    fn read_config(&self, offset: u64, data: &mut [u8]);
    /// The guest notified queue `index`: process what it made available.
    /// The transport has checked that `queue` exists and is ready.
    fn notify(
        &mut self,
        index: u16,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<Handled, DeviceError>;
    /// The guest reset the device.
    fn reset(&mut self) {}
}

/// A guest's misuse of a device, or a backend failure.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("descriptor chain {head}: {why}")]
    BadChain { head: u16, why: String },
    #[error("guest memory: {0}")]
    Memory(#[from] vm_memory::GuestMemoryError),
    #[error("virtqueue: {0}")]
    Queue(#[from] virtio_queue::Error),
    #[error("{0}")]
    Backend(#[from] std::io::Error),
}

/// Read config space of `bytes` at `offset` into `data` (zeros past the end).
pub fn read_config_bytes(bytes: &[u8], offset: u64, data: &mut [u8]) {
    data.fill(0);
    for (i, b) in data.iter_mut().enumerate() {
        let at = offset as usize + i;
        if let Some(v) = bytes.get(at) {
            *b = *v;
        }
    }
}
