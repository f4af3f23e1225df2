//! virtio-blk (spec 5.2) over a raw image file: read, write, flush and
//! get-id requests on one queue, each read or write fired as
//! `vmm:::blk-start` / `blk-done` and counted in [`BlockMetrics`].
//!
//! A request is a chain of a 16-byte readable header (type, reserved,
//! sector), the data buffers (readable for a write, writable for a read)
//! and a writable status byte. [`Block`] checks the chain's shape first,
//! then moves the data through virtio-queue's `Reader` or `Writer`.

mod device;
pub mod metrics;

pub use device::{Block, Cache};
pub use metrics::BlockMetrics;

use super::ChainError;

/// The unit of the header's sector number and of the capacity.
pub const SECTOR: u64 = 512;

/// The header's length: `le32 type, le32 reserved, le64 sector`.
const HEADER_LEN: u32 = 16;
/// The queue's size.
const QUEUE_SIZE: u16 = 256;

/// The largest data transfer one request may ask for: bounds the VMM's
/// buffer whatever lengths a guest writes in its descriptors.
const MAX_REQUEST: u64 = 1 << 20;

/// A block request the guest got wrong. The chain goes back to the guest
/// with nothing written, its status byte untouched.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The chain's head names no descriptor the guest wrote.
    #[error("descriptor chain {0}: empty chain")]
    Empty(u16),
    /// The chain has a header and nothing after it.
    #[error("descriptor chain {0}: no status descriptor")]
    NoStatus(u16),
    /// The first descriptor is writable or shorter than a header.
    #[error("descriptor chain {0}: the request header must be a readable descriptor of 16 bytes")]
    Header(u16),
    /// The last descriptor is read-only or empty.
    #[error("descriptor chain {0}: the status must be a writable descriptor")]
    Status(u16),
    /// A read's data buffers are read-only, or a write's writable.
    #[error("descriptor chain {0}: data descriptors point the wrong way for the request")]
    DataDirection(u16),
    /// The data buffers add up to more than [`MAX_REQUEST`].
    #[error("descriptor chain {0}: request larger than 1 MiB")]
    TooLarge(u16),
    /// The header or the status byte lies outside guest memory.
    #[error("descriptor chain {head}: the {what}: {source}")]
    Memory {
        head: u16,
        what: &'static str,
        source: vm_memory::GuestMemoryError,
    },
    /// A GET_ID buffer lies outside guest memory, or the used ring is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
}
