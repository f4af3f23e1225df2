//! Console input on its way to the guest: what was typed, kept in a
//! bounded queue until the guest posts buffers for it.

use super::{ConsoleMetrics, INPUT_LIMIT};
use crate::devices::bus;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes typed at the console that no guest buffer has taken yet; shared
/// by the device and whoever feeds console input.
#[derive(Clone, Default)]
pub struct InputQueue {
    pending: Arc<Mutex<Pending>>,
    metrics: Arc<ConsoleMetrics>,
}

#[derive(Default)]
pub(super) struct Pending {
    /// The bytes, oldest first.
    pub(super) bytes: VecDeque<u8>,
    /// Whether the overflow warning was printed: once per device, so a
    /// stuck guest does not flood the VMM's stderr.
    warned: bool,
}

impl InputQueue {
    /// Keep `bytes` for the guest; what does not fit under
    /// [`INPUT_LIMIT`] is dropped. Returns how many bytes were kept.
    pub fn push(&self, bytes: &[u8]) -> usize {
        let mut pending = self.lock();
        let room = INPUT_LIMIT.saturating_sub(pending.bytes.len());
        let kept = bytes.len().min(room);
        pending.bytes.extend(&bytes[..kept]);
        if kept < bytes.len() {
            self.metrics.input_dropped.add((bytes.len() - kept) as u64);
            if !pending.warned {
                pending.warned = true;
                eprintln!(
                    "lumen vmm: virtio-console: the guest is not reading its console; \
                     input beyond {} KiB is dropped",
                    INPUT_LIMIT / 1024
                );
            }
        }
        kept
    }

    /// Bytes waiting for the guest.
    pub fn len(&self) -> usize {
        self.lock().bytes.len()
    }

    /// Whether nothing waits for the guest.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The counters the queue shares with its device.
    pub(super) fn metrics(&self) -> Arc<ConsoleMetrics> {
        self.metrics.clone()
    }

    /// The waiting bytes, for the device to take some.
    pub(super) fn lock(&self) -> MutexGuard<'_, Pending> {
        bus::lock(&self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_beyond_the_limit_is_dropped() {
        let q = InputQueue::default();
        assert_eq!(q.push(&vec![b'a'; INPUT_LIMIT - 10]), INPUT_LIMIT - 10);
        assert_eq!(q.push(&[b'b'; 30]), 10);
        assert_eq!(q.push(b"c"), 0);
        assert_eq!(q.len(), INPUT_LIMIT);
        assert_eq!(q.metrics().input_dropped.get(), 21);
    }
}
