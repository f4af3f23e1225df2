//! virtio-console (spec 5.3) with one port and no MULTIPORT: what the
//! guest transmits goes to the VM's console output (beside the 8250's),
//! and bytes typed at the console wait in a bounded [`InputQueue`] until
//! the guest posts receive buffers. Linux drives it as `hvc0`. Counted in
//! [`ConsoleMetrics`].

mod device;
mod input;
pub mod metrics;

pub use device::Console;
pub use input::InputQueue;
pub use metrics::ConsoleMetrics;

use super::ChainError;

/// Input kept for a guest that does not read (no driver yet, or one that
/// stopped posting buffers): enough for any paste, small enough that a
/// client cannot grow the VMM without bound.
pub const INPUT_LIMIT: usize = 64 * 1024;

/// The largest transmit chain: Linux sends at most a page per buffer, so
/// anything near this is a guest describing memory it does not mean.
const MAX_TRANSMIT: u64 = 1 << 20;

/// `struct virtio_console_config` (cols, rows, max_nr_ports, emerg_wr):
/// all zero, since no feature that gives the fields meaning is offered.
const CONFIG: [u8; 12] = [0; 12];

/// Each queue's size.
const QUEUE_SIZE: u16 = 256;

/// A console chain the guest got wrong.
#[derive(Debug, thiserror::Error)]
pub enum VirtioConsoleError {
    /// The guest's transmit chain is longer than [`MAX_TRANSMIT`].
    #[error("descriptor chain {0}: transmit chain longer than 1 MiB")]
    TooLong(u16),
    /// A chain's buffers point the wrong way or outside guest memory, or
    /// the used ring is broken.
    #[error(transparent)]
    Chain(#[from] ChainError),
}
