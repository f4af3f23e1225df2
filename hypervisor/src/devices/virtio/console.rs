//! virtio-console (spec 5.3) with one port and no MULTIPORT: what the
//! guest transmits goes to the VM's console output (beside the 8250's),
//! and bytes typed at the console wait in a bounded [`InputQueue`] until
//! the guest posts receive buffers. Linux drives it as `hvc0`.

use super::{read_config_bytes, DeviceError, Handled, VirtioDevice, TYPE_CONSOLE};
use crate::devices::bus;
use crate::devices::legacy::ConsoleOut;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Port 0's receive queue (host to guest).
pub const RX: u16 = 0;
/// Port 0's transmit queue (guest to host).
pub const TX: u16 = 1;

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

/// Bytes typed at the console that no guest buffer has taken yet; shared
/// by the device and whoever feeds console input.
#[derive(Clone, Default)]
pub struct InputQueue(Arc<Mutex<Pending>>);

#[derive(Default)]
struct Pending {
    bytes: VecDeque<u8>,
    /// Whether the overflow warning was printed: once per device, so a
    /// stuck guest does not flood the VMM's stderr.
    warned: bool,
}

impl InputQueue {
    /// Keep `bytes` for the guest; what does not fit under
    /// [`INPUT_LIMIT`] is dropped. Returns how many bytes were kept.
    pub fn push(&self, bytes: &[u8]) -> usize {
        let mut pending = bus::lock(&self.0);
        let room = INPUT_LIMIT.saturating_sub(pending.bytes.len());
        let kept = bytes.len().min(room);
        pending.bytes.extend(&bytes[..kept]);
        if kept < bytes.len() && !pending.warned {
            pending.warned = true;
            eprintln!(
                "lumen vmm: virtio-console: the guest is not reading its console; \
                 input beyond {} KiB is dropped",
                INPUT_LIMIT / 1024
            );
        }
        kept
    }

    /// Bytes waiting for the guest.
    pub fn len(&self) -> usize {
        bus::lock(&self.0).bytes.len()
    }

    /// Whether nothing waits for the guest.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The console device.
pub struct Console {
    name: String,
    out: ConsoleOut,
    input: InputQueue,
}

impl Console {
    /// Device number `index` (among consoles) writing to `out`.
    pub fn new(out: ConsoleOut, index: u32) -> Console {
        Console {
            name: format!("virtio-console{index}"),
            out,
            input: InputQueue::default(),
        }
    }

    /// The queue console input goes into; after pushing, run the
    /// transport's [`RX`] queue so waiting guest buffers are filled.
    pub fn input(&self) -> InputQueue {
        self.input.clone()
    }

    /// Copy every transmit chain to the console output.
    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, DeviceError> {
        let mut used = false;
        let mut chunk = [0u8; 4096];
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let head = chain.head_index();
            let descs: Vec<Descriptor> = chain.collect();
            // Check the whole chain before writing any of it, so a bad
            // chain prints nothing rather than half a message.
            let total: u64 = descs.iter().map(|d| u64::from(d.len())).sum();
            let check = if descs.iter().any(|d| d.is_write_only()) {
                Err("writable descriptor in a transmit chain")
            } else if total > MAX_TRANSMIT {
                Err("transmit chain longer than 1 MiB")
            } else {
                Ok(())
            };
            let mut result = check.map_err(|why| DeviceError::BadChain {
                head,
                why: why.into(),
            });
            if result.is_ok() {
                result = self.copy_out(&descs, mem, &mut chunk);
            }
            // Returned to the guest even when bad, so its driver does not
            // wait forever for the buffer.
            queue.add_used(mem, head, 0)?;
            used = true;
            result?;
        }
        // The hub flushes its log on every write; this is for other outputs.
        let _ = self.out.flush();
        Ok(used)
    }

    fn copy_out(
        &mut self,
        descs: &[Descriptor],
        mem: &GuestMemoryMmap,
        chunk: &mut [u8],
    ) -> Result<(), DeviceError> {
        for d in descs {
            let mut done = 0u64;
            let len = u64::from(d.len());
            while done < len {
                let n = (len - done).min(chunk.len() as u64) as usize;
                let at = GuestAddress(d.addr().0.wrapping_add(done));
                mem.read_slice(&mut chunk[..n], at)?;
                // A console that cannot be written (closed stdout) must
                // not stop the guest, as with the 8250.
                let _ = self.out.write_all(&chunk[..n]);
                done += n as u64;
            }
        }
        Ok(())
    }

    /// Fill receive chains from the input queue while both last.
    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, DeviceError> {
        let mut used = false;
        loop {
            // Chains are only taken when there is input for them: the rest
            // stay available for input that comes later.
            if self.input.is_empty() {
                break;
            }
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let descs: Vec<Descriptor> = chain.collect();
            let mut written = 0u32;
            let mut result = Ok(());
            let mut pending = bus::lock(&self.input.0);
            for d in &descs {
                if !d.is_write_only() {
                    result = Err(DeviceError::BadChain {
                        head,
                        why: "read-only descriptor in a receive chain".into(),
                    });
                    break;
                }
                if pending.bytes.is_empty() {
                    break;
                }
                let n = (d.len() as usize).min(pending.bytes.len());
                // Copy before consuming: bytes a bad address refuses stay
                // queued for a buffer that works.
                let (front, back) = pending.bytes.as_slices();
                let bytes: Vec<u8> = front.iter().chain(back).take(n).copied().collect();
                if let Err(e) = mem.write_slice(&bytes, d.addr()) {
                    result = Err(e.into());
                    break;
                }
                pending.bytes.drain(..n);
                written += n as u32;
            }
            drop(pending);
            queue.add_used(mem, head, written)?;
            used = true;
            result?;
        }
        Ok(used)
    }
}

impl VirtioDevice for Console {
    fn device_type(&self) -> u32 {
        TYPE_CONSOLE
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        0
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[256, 256]
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&CONFIG, offset, data);
    }
    fn notify(
        &mut self,
        index: u16,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<Handled, DeviceError> {
        let used = match index {
            RX => self.receive(queue, mem)?,
            TX => self.transmit(queue, mem)?,
            _ => false,
        };
        Ok(Handled { used })
    }
    // Reset keeps the input queue: it holds what was typed at the host's
    // end, like a terminal's buffer, and Linux resets the device when its
    // driver probes, after which early typing should still arrive.
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio::test_utils::{desc, memory, offer, used, NEXT, WRITE};
    use virtio_queue::mock::MockSplitQueue;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn console() -> (Console, Shared) {
        let out = Shared::default();
        (Console::new(Box::new(out.clone()), 0), out)
    }

    #[test]
    fn transmit_chains_reach_the_output_in_order() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        mem.write_slice(b"hello ", GuestAddress(0x10_0000)).unwrap();
        mem.write_slice(b"world\n", GuestAddress(0x10_1000))
            .unwrap();
        mem.write_slice(b"again\n", GuestAddress(0x10_2000))
            .unwrap();
        mock.add_desc_chains(
            &[
                desc(0x10_0000, 6, NEXT, 1),
                desc(0x10_1000, 6, 0, 0),
                desc(0x10_2000, 6, 0, 0),
            ],
            0,
        )
        .unwrap();
        let mut queues = [Queue::new(16).unwrap(), mock.create_queue().unwrap()];
        let (mut dev, out) = console();
        let handled = dev.notify(TX, &mut queues[TX as usize], &mem).unwrap();
        assert!(handled.used);
        assert_eq!(out.0.lock().unwrap().as_slice(), b"hello world\nagain\n");
        assert_eq!(mock.used().idx().load(), 2);
    }

    #[test]
    fn a_writable_transmit_descriptor_is_a_bad_chain_and_prints_nothing() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        mock.add_desc_chains(&[desc(0x10_0000, 6, WRITE, 0)], 0)
            .unwrap();
        let mut queues = [Queue::new(16).unwrap(), mock.create_queue().unwrap()];
        let (mut dev, out) = console();
        let err = dev.notify(TX, &mut queues[TX as usize], &mem).unwrap_err();
        assert!(
            matches!(err, DeviceError::BadChain { head: 0, .. }),
            "{err}"
        );
        assert!(out.0.lock().unwrap().is_empty());
        assert_eq!(mock.used().idx().load(), 1, "the buffer is still returned");
    }

    #[test]
    fn a_transmit_buffer_outside_memory_is_an_error_not_a_panic() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        mock.add_desc_chains(&[desc(0x4000_0000, 16, 0, 0)], 0)
            .unwrap();
        let mut queues = [Queue::new(16).unwrap(), mock.create_queue().unwrap()];
        let (mut dev, _) = console();
        assert!(dev.notify(TX, &mut queues[TX as usize], &mem).is_err());
    }

    #[test]
    fn input_waits_for_buffers_and_fills_them_across_descriptors() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        let mut queues = [mock.create_queue().unwrap(), Queue::new(16).unwrap()];
        let (mut dev, _) = console();
        let input = dev.input();
        // Input before any buffer stays queued.
        input.push(b"ping\nsecond");
        assert!(!dev.notify(RX, &mut queues[RX as usize], &mem).unwrap().used);
        // One chain of two 3-byte buffers, then one of 8 bytes.
        mock.add_desc_chains(
            &[
                desc(0x10_0000, 3, WRITE | NEXT, 1),
                desc(0x10_1000, 3, WRITE, 0),
                desc(0x10_2000, 8, WRITE, 0),
            ],
            0,
        )
        .unwrap();
        assert!(dev.notify(RX, &mut queues[RX as usize], &mem).unwrap().used);
        let mut a = [0u8; 3];
        mem.read_slice(&mut a, GuestAddress(0x10_0000)).unwrap();
        assert_eq!(&a, b"pin");
        mem.read_slice(&mut a, GuestAddress(0x10_1000)).unwrap();
        assert_eq!(&a, b"g\ns");
        let mut b = [0u8; 5];
        mem.read_slice(&mut b, GuestAddress(0x10_2000)).unwrap();
        assert_eq!(&b, b"econd");
        let used = mock.used();
        assert_eq!(used.idx().load(), 2);
        assert_eq!(used.ring().ref_at(0).unwrap().load().len(), 6);
        assert_eq!(used.ring().ref_at(1).unwrap().load().len(), 5);
        assert!(input.is_empty());
    }

    #[test]
    fn buffers_are_left_available_while_there_is_no_input() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        mock.add_desc_chains(&[desc(0x10_0000, 8, WRITE, 0)], 0)
            .unwrap();
        let mut queues = [mock.create_queue().unwrap(), Queue::new(16).unwrap()];
        let (mut dev, _) = console();
        assert!(!dev.notify(RX, &mut queues[RX as usize], &mem).unwrap().used);
        assert_eq!(mock.used().idx().load(), 0);
        dev.input().push(b"x");
        assert!(dev.notify(RX, &mut queues[RX as usize], &mem).unwrap().used);
        assert_eq!(mock.used().ring().ref_at(0).unwrap().load().len(), 1);
    }

    #[test]
    fn a_read_only_receive_descriptor_is_a_bad_chain() {
        let mem = memory();
        let mock = MockSplitQueue::new(&mem, 16);
        mock.add_desc_chains(&[desc(0x10_0000, 8, 0, 0)], 0)
            .unwrap();
        let mut queues = [mock.create_queue().unwrap(), Queue::new(16).unwrap()];
        let (mut dev, _) = console();
        dev.input().push(b"x");
        let err = dev.notify(RX, &mut queues[RX as usize], &mem).unwrap_err();
        assert!(matches!(err, DeviceError::BadChain { .. }), "{err}");
        assert_eq!(dev.input().len(), 1, "the input is kept");
    }

    #[test]
    fn input_beyond_the_limit_is_dropped() {
        let q = InputQueue::default();
        assert_eq!(q.push(&vec![b'a'; INPUT_LIMIT - 10]), INPUT_LIMIT - 10);
        assert_eq!(q.push(&[b'b'; 30]), 10);
        assert_eq!(q.push(b"c"), 0);
        assert_eq!(q.len(), INPUT_LIMIT);
    }

    #[test]
    fn a_transmit_chain_over_1_mib_is_a_bad_chain_and_prints_nothing() {
        let mem = memory();
        let (mock, mut queue) = offer(
            &mem,
            &[&[(0x10_0000, 0x8_0000, false), (0x18_0000, 0x8_0001, false)]],
        );
        let (mut dev, out) = console();
        let err = dev.notify(TX, &mut queue, &mem).unwrap_err();
        assert!(matches!(err, DeviceError::BadChain { .. }), "{err}");
        assert!(out.0.lock().unwrap().is_empty());
        assert_eq!(used(&mock), [(0, 0)]);
    }

    #[test]
    fn a_read_only_descriptor_right_after_the_input_ran_out_is_still_bad() {
        // The receive loop looks at a descriptor's direction before it
        // looks whether input is left: three bytes fill [W3], then [R] is
        // reached and refused; the three bytes were delivered all the same.
        let mem = memory();
        let (mock, mut queue) = offer(&mem, &[&[(0x10_0000, 3, true), (0x10_1000, 8, false)]]);
        let (mut dev, _) = console();
        dev.input().push(b"abc");
        assert!(dev.notify(RX, &mut queue, &mem).is_err());
        assert_eq!(used(&mock), [(0, 3)]);
        assert!(dev.input().is_empty());
        // With a byte more than the writable buffers hold, the same.
        let (mock, mut queue) = offer(&mem, &[&[(0x10_0000, 3, true), (0x10_1000, 8, false)]]);
        dev.input().push(b"wxyz");
        assert!(dev.notify(RX, &mut queue, &mem).is_err());
        assert_eq!(used(&mock), [(0, 3)]);
        assert_eq!(dev.input().len(), 1);
        // With input that runs out before the last writable buffer, the
        // read-only descriptor is never reached.
        let (mock, mut queue) = offer(
            &mem,
            &[&[
                (0x10_0000, 3, true),
                (0x10_1000, 3, true),
                (0x10_2000, 8, false),
            ]],
        );
        let (mut dev, _) = console();
        dev.input().push(b"ab");
        assert!(dev.notify(RX, &mut queue, &mem).unwrap().used);
        assert_eq!(used(&mock), [(0, 2)]);
    }

    #[test]
    fn a_receive_buffer_outside_memory_keeps_the_input() {
        let mem = memory();
        let (mock, mut queue) = offer(&mem, &[&[(0x4000_0000, 8, true)]]);
        let (mut dev, _) = console();
        dev.input().push(b"keep");
        assert!(dev.notify(RX, &mut queue, &mem).is_err());
        assert_eq!(used(&mock), [(0, 0)]);
        assert_eq!(dev.input().len(), 4);
    }
}
