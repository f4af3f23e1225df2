//! The console device: transmit chains copied to the console output
//! through virtio-queue's `Reader`, waiting input written into receive
//! chains through a `Writer`.

use super::{ConsoleMetrics, InputQueue, VirtioConsoleError, CONFIG, MAX_TRANSMIT, QUEUE_SIZE};
use crate::devices::legacy::ConsoleOut;
use crate::devices::virtio::metrics::Counters;
use crate::devices::virtio::{
    give_back, notify_duplex, read_config_bytes, write_to_chain, Chain, ChainError, DeviceError,
    Duplex, Handled, VirtioDevice,
};
use std::io::Write;
use std::sync::Arc;
use virtio_bindings::virtio_ids::VIRTIO_ID_CONSOLE;
use virtio_queue::{Queue, QueueT, Reader};
use vm_memory::GuestMemoryMmap;

/// The console device.
pub struct Console {
    name: String,
    out: ConsoleOut,
    input: InputQueue,
    metrics: Arc<ConsoleMetrics>,
}

impl Console {
    /// Device number `index` (among consoles) writing to `out`.
    pub fn new(out: ConsoleOut, index: u32) -> Console {
        let input = InputQueue::default();
        Console {
            name: format!("virtio-console{index}"),
            out,
            metrics: input.metrics(),
            input,
        }
    }

    /// The queue console input goes into; after pushing, run the
    /// transport's [`RX`](crate::devices::virtio::RX) queue so waiting guest buffers are filled.
    pub fn input(&self) -> InputQueue {
        self.input.clone()
    }

    /// Copy one transmit chain to the output. The whole chain is checked
    /// first (directions, length, every buffer in guest memory), so a bad
    /// chain prints nothing rather than half a message.
    fn print(&mut self, chain: Chain<'_>, mem: &GuestMemoryMmap) -> Result<(), VirtioConsoleError> {
        let head = chain.head_index();
        let mut total = 0u64;
        for d in chain.clone() {
            if d.is_write_only() {
                return Err(ChainError::WritableInTransmit(head).into());
            }
            total += u64::from(d.len());
        }
        if total > MAX_TRANSMIT {
            return Err(VirtioConsoleError::TooLong(head));
        }
        let mut reader =
            Reader::new(mem, chain).map_err(|source| ChainError::Buffers { head, source })?;
        self.metrics.tx_bytes.add(reader.available_bytes() as u64);
        // A console that cannot be written (closed stdout) must not stop
        // the guest, as with the 8250.
        let _ = std::io::copy(&mut reader, &mut self.out);
        Ok(())
    }

    /// Move waiting input into the writable buffers of `chain`: the bytes
    /// written, and whether the chain was good. The buffers fill in order
    /// while input lasts; a read-only one is the guest's fault when it is
    /// reached, which it is if every buffer before it found input waiting
    /// (the last of them may have taken the last byte). Bytes leave the
    /// queue only once written: those a bad buffer refuses stay queued for
    /// a buffer that works.
    fn fill(
        &mut self,
        chain: Chain<'_>,
        mem: &GuestMemoryMmap,
    ) -> (u32, Result<(), VirtioConsoleError>) {
        let head = chain.head_index();
        let mut pending = self.input.lock();
        let waiting = pending.bytes.len();
        let mut room = 0usize;
        let mut fault = None;
        for d in chain.clone() {
            if !d.is_write_only() {
                fault = Some(ChainError::ReadOnlyInReceive(head).into());
                break;
            }
            if room >= waiting {
                break;
            }
            room += d.len() as usize;
        }
        let n = room.min(waiting);
        let (front, back) = pending.bytes.as_slices();
        if let Err(e) = write_to_chain(chain, mem, &[front, back], n) {
            return (0, Err(e.into()));
        }
        pending.bytes.drain(..n);
        self.metrics.rx_bytes.add(n as u64);
        (n as u32, fault.map_or(Ok(()), Err))
    }
}

impl Duplex for Console {
    type Error = VirtioConsoleError;

    /// Fill receive chains from the input queue while both last.
    fn receive(
        &mut self,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<bool, VirtioConsoleError> {
        let mut used = false;
        // Chains are only taken when there is input for them: the rest
        // stay available for input that comes later.
        while !self.input.is_empty() {
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let (written, result) = self.fill(chain, mem);
            give_back(queue, mem, head, written)?;
            used = true;
            if let Err(e) = result {
                self.metrics.bad_chains.inc();
                return Err(e);
            }
        }
        Ok(used)
    }

    /// Copy every transmit chain to the console output.
    fn transmit(
        &mut self,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<bool, VirtioConsoleError> {
        let mut used = false;
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let head = chain.head_index();
            let result = self.print(chain, mem);
            // Returned to the guest even when bad, so its driver does not
            // wait forever for the buffer.
            give_back(queue, mem, head, 0)?;
            used = true;
            if let Err(e) = result {
                self.metrics.bad_chains.inc();
                return Err(e);
            }
        }
        // The hub flushes its log on every write; this is for other outputs.
        let _ = self.out.flush();
        Ok(used)
    }
}

impl VirtioDevice for Console {
    fn device_type(&self) -> u32 {
        VIRTIO_ID_CONSOLE
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        0
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[QUEUE_SIZE, QUEUE_SIZE]
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
        notify_duplex(self, index, queue, mem)
    }
    // Reset keeps the input queue: it holds what was typed at the host's
    // end, like a terminal's buffer, and Linux resets the device when its
    // driver probes, after which early typing should still arrive.
    fn metrics(&self) -> Arc<dyn Counters> {
        self.metrics.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio::test_utils::{desc, memory, offer, used, NEXT, WRITE};
    use crate::devices::virtio::{RX, TX};
    use std::sync::Mutex;
    use virtio_queue::mock::MockSplitQueue;
    use vm_memory::{Bytes, GuestAddress};

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
        assert_eq!(dev.metrics.tx_bytes.get(), 18);
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
            matches!(
                err,
                DeviceError::Console(VirtioConsoleError::Chain(ChainError::WritableInTransmit(0)))
            ),
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
        assert_eq!(dev.metrics.rx_bytes.get(), 11);
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
        assert!(
            matches!(
                err,
                DeviceError::Console(VirtioConsoleError::Chain(ChainError::ReadOnlyInReceive(0)))
            ),
            "{err}"
        );
        assert_eq!(dev.input().len(), 1, "the input is kept");
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
        assert!(
            matches!(err, DeviceError::Console(VirtioConsoleError::TooLong(0))),
            "{err}"
        );
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
