//! Fixtures for the devices' unit tests: guest memory, descriptor chains
//! a driver would write, and what the device put in the used ring. The
//! driver's side of a queue is virtio-queue's `MockSplitQueue`.

use virtio_queue::desc::split::Descriptor;
use virtio_queue::desc::RawDescriptor;
use virtio_queue::mock::MockSplitQueue;
use virtio_queue::Queue;
use vm_memory::{GuestAddress, GuestMemoryMmap};

/// Descriptor flags (spec 2.7.5).
pub const NEXT: u16 = 1;
pub const WRITE: u16 = 2;

/// Where tests put buffers: clear of the rings `MockSplitQueue` puts at 0.
pub const BUFFERS: u64 = 0x10_0000;
/// An address no test memory has.
pub const OUTSIDE: u64 = 0x4000_0000;

/// One buffer of a chain: guest address, length, and whether the device
/// may write it.
pub type Buffer = (u64, u32, bool);

/// 2 MiB of guest memory.
pub fn memory() -> GuestMemoryMmap {
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x20_0000)]).unwrap()
}

/// One descriptor as the driver writes it.
pub fn desc(addr: u64, len: u32, flags: u16, next: u16) -> RawDescriptor {
    RawDescriptor::from(Descriptor::new(addr, len, flags, next))
}

/// A chain of `buffers` in descriptors `first`, `first + 1`…, linked by NEXT.
pub fn chain(first: u16, buffers: &[Buffer]) -> Vec<RawDescriptor> {
    let last = buffers.len().saturating_sub(1);
    buffers
        .iter()
        .enumerate()
        .map(|(i, &(addr, len, writable))| {
            let mut flags = if writable { WRITE } else { 0 };
            if i < last {
                flags |= NEXT;
            }
            desc(addr, len, flags, first + i as u16 + 1)
        })
        .collect()
}

/// A queue of 16 entries offering `chains` (each as [`chain`] builds it,
/// numbered on from descriptor 0), and the device's view of it.
pub fn offer<'a>(
    mem: &'a GuestMemoryMmap,
    chains: &[&[Buffer]],
) -> (MockSplitQueue<'a, GuestMemoryMmap>, Queue) {
    let mock = MockSplitQueue::new(mem, 16);
    let mut descs = Vec::new();
    for buffers in chains {
        descs.extend(chain(descs.len() as u16, buffers));
    }
    if !descs.is_empty() {
        mock.add_desc_chains(&descs, 0).unwrap();
    }
    let queue = mock.create_queue().unwrap();
    (mock, queue)
}

/// The used ring's entries so far, as (head, length written).
pub fn used(mock: &MockSplitQueue<GuestMemoryMmap>) -> Vec<(u32, u32)> {
    let ring = mock.used();
    (0..ring.idx().load())
        .map(|i| {
            let elem = ring.ring().ref_at(usize::from(i)).unwrap().load();
            (elem.id(), elem.len())
        })
        .collect()
}
