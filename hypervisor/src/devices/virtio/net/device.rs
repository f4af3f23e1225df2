//! The network device: transmit chains read whole through virtio-queue's
//! `Reader` and written to the tap; frames from the tap written behind
//! their header through a `Writer` into the guest's receive chains.

use super::{NetError, NetMetrics, Tap, HDR_LEN, MAX_FRAME, NUM_BUFFERS, QUEUE_SIZE};
use crate::devices::virtio::metrics::Counters;
use crate::devices::virtio::{
    give_back, notify_duplex, read_config_bytes, write_to_chain, Chain, ChainError, DeviceError,
    Duplex, Handled, VirtioDevice,
};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use virtio_bindings::virtio_ids::VIRTIO_ID_NET;
use virtio_bindings::virtio_net::VIRTIO_NET_F_MAC;
use virtio_queue::{Queue, QueueT, Reader};
use vm_memory::GuestMemoryMmap;

/// A network device.
pub struct Net {
    name: String,
    vm: u64,
    index: u32,
    tap: Tap,
    config: [u8; 6],
    /// A frame read from the tap that waits for a receive buffer.
    pending: Option<Vec<u8>>,
    /// Shared with the receive thread: while a frame waits, it stops reading.
    waiting: Arc<AtomicBool>,
    metrics: Arc<NetMetrics>,
    /// The transmit chain being sent, header and frame; kept between chains.
    packet: Vec<u8>,
}

impl Net {
    /// Device number `index` of VM `vm` on `tap`, with `mac`.
    pub fn new(tap: Tap, mac: [u8; 6], vm: u64, index: u32) -> Net {
        Net {
            name: format!("virtio-net{index}"),
            vm,
            index,
            tap,
            config: mac,
            pending: None,
            waiting: Arc::new(AtomicBool::new(false)),
            metrics: Arc::default(),
            packet: Vec::with_capacity(HDR_LEN + MAX_FRAME),
        }
    }

    /// The flag the receive thread watches.
    pub fn waiting(&self) -> Arc<AtomicBool> {
        self.waiting.clone()
    }

    /// Read a transmit chain, header and frame, into `self.packet`.
    fn read_packet(&mut self, chain: Chain<'_>, mem: &GuestMemoryMmap) -> Result<(), NetError> {
        let head = chain.head_index();
        if chain.clone().any(|d| d.is_write_only()) {
            return Err(ChainError::WritableInTransmit(head).into());
        }
        let buffers = |source| ChainError::Buffers { head, source };
        let mut reader = Reader::new(mem, chain).map_err(buffers)?;
        let len = reader.available_bytes();
        if len > HDR_LEN + MAX_FRAME {
            return Err(NetError::FrameTooLong(head));
        }
        self.packet.resize(len, 0);
        reader
            .read_exact(&mut self.packet)
            .map_err(|_| buffers(virtio_queue::Error::InvalidChain))?;
        if len <= HDR_LEN {
            return Err(NetError::NoFrame(head));
        }
        Ok(())
    }

    /// Write the frame in `self.packet` to the tap, as `vmm:::net-tx`.
    fn send(&self) {
        let frame = &self.packet[HDR_LEN..];
        probes::vmm::net__tx(|| (self.vm, self.index, frame.len() as u32));
        match self.tap.write_frame(frame) {
            Ok(()) => {
                self.metrics.tx_frames.inc();
                self.metrics.tx_bytes.add(frame.len() as u64);
            }
            // A full tap queue drops the frame, as a congested wire would.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => self.metrics.tx_dropped.inc(),
            Err(e) => {
                self.metrics.tx_errors.inc();
                eprintln!("lumen vmm: {}: tap {}: {e}", self.name, self.tap.name());
            }
        }
    }
}

impl Duplex for Net {
    type Error = NetError;

    /// Fill receive chains with frames from the tap while both last.
    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, NetError> {
        let mut used = false;
        loop {
            if self.pending.is_none() {
                match self.tap.read_frame() {
                    Ok(Some(frame)) => self.pending = Some(frame),
                    Ok(None) => break,
                    Err(source) => {
                        self.metrics.tap_read_errors.inc();
                        let tap = self.tap.name().to_owned();
                        return Err(NetError::TapRead { tap, source });
                    }
                }
            }
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let frame = self.pending.take().unwrap_or_default();
            let (written, result) = deliver(&frame, chain, mem);
            give_back(queue, mem, head, written)?;
            used = true;
            if let Err(e) = result {
                self.metrics.bad_chains.inc();
                return Err(e);
            }
            self.metrics.rx_frames.inc();
            self.metrics.rx_bytes.add(frame.len() as u64);
            probes::vmm::net__rx(|| (self.vm, self.index, frame.len() as u32));
        }
        let waiting = self.pending.is_some();
        if waiting && !self.waiting.load(Ordering::SeqCst) {
            self.metrics.rx_waits.inc();
        }
        self.waiting.store(waiting, Ordering::SeqCst);
        Ok(used)
    }

    /// Send every transmit chain's frame to the tap.
    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, NetError> {
        let mut used = false;
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let head = chain.head_index();
            let result = self.read_packet(chain, mem);
            give_back(queue, mem, head, 0)?;
            used = true;
            if let Err(e) = result {
                self.metrics.bad_chains.inc();
                return Err(e);
            }
            self.send();
        }
        Ok(used)
    }
}

/// Put `frame` behind its header into the writable buffers of `chain`:
/// the bytes written, and whether they held it all. The buffers fill in
/// order until the frame ends; a read-only one reached before then is
/// the guest's fault, and so are buffers too short. Either way what fitted
/// is written, and the frame is not kept.
fn deliver(frame: &[u8], chain: Chain<'_>, mem: &GuestMemoryMmap) -> (u32, Result<(), NetError>) {
    let head = chain.head_index();
    let needed = HDR_LEN + frame.len();
    let mut room = 0usize;
    let mut fault = None;
    for d in chain.clone() {
        if room >= needed {
            break;
        }
        if !d.is_write_only() {
            fault = Some(ChainError::ReadOnlyInReceive(head).into());
            break;
        }
        room += d.len() as usize;
    }
    let held = room.min(needed);
    if held < needed {
        fault = fault.or(Some(NetError::ShortBuffers { head, held, needed }));
    }
    let mut header = [0u8; HDR_LEN];
    // num_buffers = 1: the frame fits in this one chain.
    header[NUM_BUFFERS] = 1;
    if let Err(e) = write_to_chain(chain, mem, &[&header, frame], held) {
        return (0, Err(e.into()));
    }
    (held as u32, fault.map_or(Ok(()), Err))
}

impl VirtioDevice for Net {
    fn device_type(&self) -> u32 {
        VIRTIO_ID_NET
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        1 << VIRTIO_NET_F_MAC
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[QUEUE_SIZE, QUEUE_SIZE]
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&self.config, offset, data);
    }
    fn notify(
        &mut self,
        index: u16,
        queue: &mut Queue,
        mem: &GuestMemoryMmap,
    ) -> Result<Handled, DeviceError> {
        notify_duplex(self, index, queue, mem)
    }
    fn reset(&mut self) {
        self.pending = None;
        self.waiting.store(false, Ordering::SeqCst);
    }
    fn metrics(&self) -> Arc<dyn Counters> {
        self.metrics.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio::test_utils::{memory, offer, used, Buffer, BUFFERS};
    use crate::devices::virtio::{RX, TX};
    use std::fs::File;
    use std::io::Write;
    use vm_memory::{Bytes, GuestAddress};

    /// A device on a socket-pair tap, and the wire's end of it.
    fn net() -> (Net, File) {
        let (tap, wire) = Tap::socket_pair();
        (Net::new(tap, [2, 0, 0, 0, 0, 1], 7, 0), wire)
    }

    fn frame(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 5) as u8).collect()
    }

    fn bytes(mem: &GuestMemoryMmap, at: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        mem.read_slice(&mut buf, GuestAddress(at)).unwrap();
        buf
    }

    fn on_wire(wire: &mut File) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 4096];
        match wire.read(&mut buf) {
            Ok(n) => {
                buf.truncate(n);
                Some(buf)
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_transmitted_frame_reaches_the_tap_without_its_header() {
        let mem = memory();
        let (mut dev, mut wire) = net();
        let mut packet = vec![0u8; HDR_LEN];
        packet.extend(frame(60));
        mem.write_slice(&packet[..20], GuestAddress(BUFFERS))
            .unwrap();
        mem.write_slice(&packet[20..], GuestAddress(BUFFERS + 0x1000))
            .unwrap();
        let (mock, mut queue) = offer(
            &mem,
            &[&[(BUFFERS, 20, false), (BUFFERS + 0x1000, 52, false)]],
        );
        assert!(dev.notify(TX, &mut queue, &mem).unwrap().used);
        assert_eq!(on_wire(&mut wire), Some(frame(60)));
        assert_eq!(used(&mock), [(0, 0)]);
        assert_eq!(
            (dev.metrics.tx_frames.get(), dev.metrics.tx_bytes.get()),
            (1, 60)
        );
    }

    #[test]
    fn bad_transmit_chains_send_nothing_and_still_come_back() {
        let mem = memory();
        let cases: [(&str, &[Buffer]); 3] = [
            ("writable", &[(BUFFERS, 72, true)]),
            (
                "too long",
                &[(BUFFERS, (HDR_LEN + MAX_FRAME + 1) as u32, false)],
            ),
            ("header only", &[(BUFFERS, HDR_LEN as u32, false)]),
        ];
        for (what, buffers) in cases {
            let (mut dev, mut wire) = net();
            let (mock, mut queue) = offer(&mem, &[buffers]);
            let err = dev.notify(TX, &mut queue, &mem).unwrap_err();
            assert!(
                err.to_string().contains("descriptor chain 0"),
                "{what}: {err}"
            );
            assert_eq!(on_wire(&mut wire), None, "{what}");
            assert_eq!(used(&mock), [(0, 0)], "{what}");
            assert_eq!(dev.metrics.bad_chains.get(), 1, "{what}");
            assert_eq!(dev.metrics.tx_frames.get(), 0, "{what}");
        }
    }

    #[test]
    fn a_received_frame_gets_a_header_saying_one_buffer() {
        let mem = memory();
        let (mut dev, wire) = net();
        let (mock, mut queue) = offer(
            &mem,
            &[&[(BUFFERS, 10, true), (BUFFERS + 0x1000, 2000, true)]],
        );
        (&wire).write_all(&frame(100)).unwrap();
        assert!(dev.notify(RX, &mut queue, &mem).unwrap().used);
        let mut want = vec![0u8; HDR_LEN];
        want[10] = 1;
        want.extend(frame(100));
        assert_eq!(bytes(&mem, BUFFERS, 10), want[..10]);
        assert_eq!(bytes(&mem, BUFFERS + 0x1000, 102), want[10..]);
        assert_eq!(used(&mock), [(0, 112)]);
        assert!(!dev.waiting().load(Ordering::SeqCst));
    }

    #[test]
    fn a_frame_waits_for_receive_buffers() {
        let mem = memory();
        let (mut dev, wire) = net();
        (&wire).write_all(&frame(60)).unwrap();
        let (mock, mut queue) = offer(&mem, &[]);
        assert!(!dev.notify(RX, &mut queue, &mem).unwrap().used);
        assert!(dev.waiting().load(Ordering::SeqCst));
        drop(mock);
        let (mock, mut queue) = offer(&mem, &[&[(BUFFERS, 2000, true)]]);
        assert!(dev.notify(RX, &mut queue, &mem).unwrap().used);
        assert_eq!(used(&mock), [(0, 72)]);
        assert!(!dev.waiting().load(Ordering::SeqCst));
        assert_eq!(bytes(&mem, BUFFERS + HDR_LEN as u64, 60), frame(60));
        assert_eq!(dev.metrics.rx_waits.get(), 1);
        assert_eq!(
            (dev.metrics.rx_frames.get(), dev.metrics.rx_bytes.get()),
            (1, 60)
        );
    }

    #[test]
    fn receive_buffers_are_filled_up_to_the_frames_end_only() {
        let mem = memory();
        // A read-only descriptor after buffers that already hold the frame
        // is never looked at.
        let (mut dev, wire) = net();
        let (mock, mut queue) = offer(
            &mem,
            &[&[(BUFFERS, 2000, true), (BUFFERS + 0x1000, 8, false)]],
        );
        (&wire).write_all(&frame(60)).unwrap();
        dev.notify(RX, &mut queue, &mem).unwrap();
        assert_eq!(used(&mock), [(0, 72)]);
    }

    #[test]
    fn short_or_read_only_receive_buffers_drop_the_frame() {
        let mem = memory();
        let cases: [(&str, &[Buffer]); 2] = [
            ("short", &[(BUFFERS, 40, true)]),
            (
                "read-only",
                &[(BUFFERS, 30, true), (BUFFERS + 0x1000, 100, false)],
            ),
        ];
        for (what, buffers) in cases {
            let (mut dev, wire) = net();
            let (mock, mut queue) = offer(&mem, &[buffers]);
            (&wire).write_all(&frame(60)).unwrap();
            let err = dev.notify(RX, &mut queue, &mem).unwrap_err();
            assert!(
                err.to_string().contains("descriptor chain 0"),
                "{what}: {err}"
            );
            // What fitted was written and is reported as such.
            assert_eq!(used(&mock), [(0, buffers[0].1)], "{what}");
            assert!(
                !dev.waiting().load(Ordering::SeqCst),
                "{what}: the frame is gone"
            );
        }
    }
}
