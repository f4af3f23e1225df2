//! virtio-net (spec 5.1) over a tap device: frames the guest transmits go
//! to the tap, frames read from the tap fill the guest's receive buffers.
//! Each side fires `vmm:::net-tx` / `net-rx` and counts in [`NetMetrics`].
//!
//! No offloads and no mergeable buffers: every frame, either way, is a
//! 12-byte `virtio_net_hdr_v1` (all zero but `num_buffers`, 1) and an
//! Ethernet frame of at most 1514 bytes, in one chain.

mod device;
pub mod metrics;
mod tap;

pub use device::Net;
pub use metrics::NetMetrics;
pub use tap::Tap;

use super::ChainError;
use virtio_bindings::virtio_net::virtio_net_hdr_v1;

/// `struct virtio_net_hdr_v1`: every frame is preceded by one.
const HDR_LEN: usize = std::mem::size_of::<virtio_net_hdr_v1>();
/// Where the header's `num_buffers` (le16) lies in it.
const NUM_BUFFERS: usize = std::mem::offset_of!(virtio_net_hdr_v1, num_buffers);
/// The largest frame: an Ethernet frame without FCS, no offloads offered.
const MAX_FRAME: usize = 1514;
/// Each queue's size.
const QUEUE_SIZE: u16 = 256;

/// A frame the guest got wrong, or a tap that failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The guest's transmit chain holds more than a header and the
    /// largest frame.
    #[error("descriptor chain {0}: frame longer than 1514 bytes")]
    FrameTooLong(u16),
    /// The guest's transmit chain holds a header and no frame.
    #[error("descriptor chain {0}: transmit chain without a frame")]
    NoFrame(u16),
    /// The guest's receive chain is too short for the frame, which is
    /// dropped.
    #[error("descriptor chain {head}: receive buffers hold {held} of {needed} bytes")]
    ShortBuffers {
        head: u16,
        held: usize,
        needed: usize,
    },
    /// Reading the tap failed for another reason than having no frame.
    #[error("tap {tap}: {source}")]
    TapRead { tap: String, source: std::io::Error },
    /// A chain's buffers point the wrong way or outside guest memory, or
    /// the used ring is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
}
