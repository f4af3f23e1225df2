//! virtio devices over the MMIO transport (virtio 1.x, "modern" register
//! layout only): the transport in [`mmio`], one folder per device beside
//! it ([`block`], [`net`], [`console`]), each with its errors, its
//! counters ([`metrics`]) and its tests.
//!
//! A device reads what the guest gives it and writes what it returns
//! through virtio-queue's [`Reader`](virtio_queue::Reader) and
//! [`Writer`](virtio_queue::Writer): they check every buffer of a chain
//! against guest memory before the first byte moves, and copy across
//! descriptor boundaries, so no device walks descriptors to copy.
//!
//! Everything a guest puts in a register or a ring is untrusted: a bad
//! value is reported on the VMM's stderr, the device is marked as needing a
//! reset (as the spec's DEVICE_NEEDS_RESET says), and the VM goes on.

pub mod block;
pub mod console;
pub mod metrics;
pub mod mmio;
pub mod net;
#[cfg(test)]
pub(crate) mod test_utils;

use metrics::Counters;
use std::io::Write;
use std::sync::Arc;
use virtio_bindings::virtio_config::VIRTIO_F_VERSION_1;
use virtio_queue::{DescriptorChain, Queue, QueueT, Writer};
use vm_memory::GuestMemoryMmap;

/// VIRTIO_F_VERSION_1: the only layout Lumen speaks.
pub const F_VERSION_1: u64 = 1 << VIRTIO_F_VERSION_1;

/// The receive queue (host to guest) of a [`Duplex`] device.
pub const RX: u16 = 0;
/// The transmit queue (guest to host) of a [`Duplex`] device.
pub const TX: u16 = 1;

/// A descriptor chain the guest made available, over the VM's memory.
pub type Chain<'a> = DescriptorChain<&'a GuestMemoryMmap>;

/// What a device tells its transport after handling a notification.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Handled {
    /// Buffers were returned to the guest: raise the used-buffer interrupt.
    pub used: bool,
}

/// A device behind a virtio-mmio transport.
///
/// Lifecycle: the VMM makes the device and hands it to an
/// [`MmioTransport`](mmio::MmioTransport), which answers the driver's
/// feature negotiation from [`features`](Self::features) and sets up one
/// queue per entry of [`queue_max_sizes`](Self::queue_max_sizes). Once the
/// driver has set DRIVER_OK, every notification of a ready queue becomes a
/// call to [`notify`](Self::notify); a status of 0 from the driver calls
/// [`reset`](Self::reset), after which negotiation starts again.
///
/// Invariants a device keeps:
/// - it never panics on anything the guest wrote, in registers, rings or
///   buffers: it returns a [`DeviceError`] saying what was wrong;
/// - every chain it pops goes back to the used ring, bad ones too (with
///   nothing written), so a driver never waits forever for a buffer;
/// - it stops at the first bad chain: the transport then marks the device
///   as needing a reset, and the chains behind it wait for the next notify.
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
    /// The device's counters, shared with whoever reads them.
    fn metrics(&self) -> Arc<dyn Counters>;
}

/// A device whose queue 0 receives (host to guest) and queue 1 transmits
/// (guest to host), as virtio-net's and virtio-console's port 0 do.
pub trait Duplex {
    /// What goes wrong, for the transport to report.
    type Error: Into<DeviceError>;
    /// Fill the guest's receive buffers with what waits for it; whether
    /// any went back to the guest.
    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, Self::Error>;
    /// Take what the guest transmitted; whether any buffer went back.
    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, Self::Error>;
}

/// [`VirtioDevice::notify`] for a [`Duplex`] device: queue [`RX`] or
/// [`TX`], and nothing to do for any other.
pub fn notify_duplex(
    device: &mut impl Duplex,
    index: u16,
    queue: &mut Queue,
    mem: &GuestMemoryMmap,
) -> Result<Handled, DeviceError> {
    let used = match index {
        RX => device.receive(queue, mem).map_err(Into::into)?,
        TX => device.transmit(queue, mem).map_err(Into::into)?,
        _ => false,
    };
    Ok(Handled { used })
}

/// What any device may find wrong with a guest's descriptor chain, or in
/// giving it back.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The guest put a buffer for the device to write in a chain the
    /// device only reads (a transmit queue).
    #[error("descriptor chain {0}: writable descriptor in a transmit chain")]
    WritableInTransmit(u16),
    /// The guest put a buffer the device may not write where the device
    /// writes (a receive queue).
    #[error("descriptor chain {0}: read-only descriptor in a receive chain")]
    ReadOnlyInReceive(u16),
    /// A buffer of the chain lies outside guest memory, or the guest
    /// changed the chain while the device used it.
    #[error("descriptor chain {head}: {source}")]
    Buffers {
        head: u16,
        source: virtio_queue::Error,
    },
    /// The used ring the guest set up cannot be written.
    #[error("used ring: {0}")]
    UsedRing(virtio_queue::Error),
}

/// Give chain `head` back to the guest with `len` bytes written.
pub fn give_back(
    queue: &mut Queue,
    mem: &GuestMemoryMmap,
    head: u16,
    len: u32,
) -> Result<(), ChainError> {
    queue.add_used(mem, head, len).map_err(ChainError::UsedRing)
}

/// Write the first `len` bytes of `parts`, one after another, into the
/// writable buffers of `chain`, in their order. Every writable buffer must
/// lie in guest memory, or nothing is written; with `len` 0 none is looked at.
pub fn write_to_chain(
    chain: Chain<'_>,
    mem: &GuestMemoryMmap,
    parts: &[&[u8]],
    len: usize,
) -> Result<(), ChainError> {
    if len == 0 {
        return Ok(());
    }
    let head = chain.head_index();
    let buffers = |source| ChainError::Buffers { head, source };
    let mut writer = Writer::new(mem, chain).map_err(buffers)?;
    let mut left = len;
    for part in parts {
        let n = part.len().min(left);
        // Short only if the guest shrank the chain since it was measured.
        writer
            .write_all(&part[..n])
            .map_err(|_| buffers(virtio_queue::Error::InvalidChain))?;
        left -= n;
    }
    Ok(())
}

/// A guest's misuse of a device, or a backend failure: whatever the
/// transport reports for a device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Block(#[from] block::BlockError),
    #[error(transparent)]
    Net(#[from] net::NetError),
    #[error(transparent)]
    Console(#[from] console::VirtioConsoleError),
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
