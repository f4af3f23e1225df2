//! The virtio-blk request path alone, without KVM: `cargo bench -p
//! hypervisor --bench virtio_blk`. A driver-side queue in plain memory
//! (virtio-queue's `MockSplitQueue`) offers one request at a time —
//! header, a 4 KiB buffer, status byte — and the device's `notify`
//! serves it from a 1 MiB image in the page cache, sequentially and
//! wrapping. What is timed is the device's own work per request: popping
//! the chain, reading the header, the file I/O, the copy to or from guest
//! memory, the status and the used ring. Nested KVM's exit cost (the
//! `vmm` bench's (c) and (d)) is what a guest adds on top.

use hypervisor::devices::virtio::block::Block;
use hypervisor::devices::virtio::VirtioDevice;
use std::time::{Duration, Instant};
use virtio_queue::desc::{split::Descriptor, RawDescriptor};
use virtio_queue::mock::MockSplitQueue;
use virtio_queue::Queue;
use vm_memory::{Address, Bytes, GuestAddress, GuestMemoryMmap};

const QUEUE: u16 = 256;
const BLOCK: u32 = 4096;
const DISK: u64 = 1 << 20;
const REQUESTS: u64 = 20_000;
const RUNS: usize = 7;

const HEADER: u64 = 0x10_0000;
const DATA: u64 = 0x11_0000;
const STATUS: u64 = 0x12_0000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `REQUESTS` requests of type `kind` (0 read, 1 write); time per request.
fn run(kind: u32) -> Duration {
    let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x20_0000)]).unwrap();
    let disk = tempfile::NamedTempFile::new().unwrap();
    disk.as_file().set_len(DISK).unwrap();
    let mut device = Block::open(disk.path(), false, 0, 0).unwrap();
    let mock = MockSplitQueue::new(&mem, QUEUE);
    let data_flags = if kind == 0 { 2 | 1 } else { 1 };
    let chain = [
        Descriptor::new(HEADER, 16, 1, 1),
        Descriptor::new(DATA, BLOCK, data_flags, 2),
        Descriptor::new(STATUS, 1, 2, 0),
    ];
    for (i, d) in chain.into_iter().enumerate() {
        mock.desc_table()
            .store(i as u16, RawDescriptor::from(d))
            .unwrap();
    }
    let mut queue: Queue = mock.create_queue().unwrap();
    let avail = mock.avail_addr();
    let started = Instant::now();
    for n in 0..REQUESTS {
        let sector = (n * u64::from(BLOCK) % DISK) / 512;
        mem.write_obj(kind, GuestAddress(HEADER)).unwrap();
        mem.write_obj(sector, GuestAddress(HEADER + 8)).unwrap();
        let slot = avail.unchecked_add(4 + 2 * (n % u64::from(QUEUE)));
        mem.write_obj(0u16, slot).unwrap();
        mem.write_obj((n + 1) as u16, avail.unchecked_add(2))
            .unwrap();
        device.notify(0, &mut queue, &mem).unwrap();
    }
    let elapsed = started.elapsed();
    let status: u8 = mem.read_obj(GuestAddress(STATUS)).unwrap();
    assert_eq!(status, 0, "the last request failed");
    elapsed / REQUESTS as u32
}

fn main() {
    for (kind, what) in [(0, "read"), (1, "write")] {
        run(kind); // warm the page cache and the allocator
        let per = median((0..RUNS).map(|_| run(kind)).collect());
        println!(
            "virtio-blk 4 KiB {what}s, device path only: {:.2} µs per request, {:.0} MiB/s (median of {RUNS} runs of {REQUESTS})",
            per.as_secs_f64() * 1e6,
            f64::from(BLOCK) / per.as_secs_f64() / (1024.0 * 1024.0)
        );
    }
}
