//! virtio-net over a tap device: frames the guest transmits go to the tap,
//! frames read from the tap fill the guest's receive buffers. Each side
//! fires `vmm:::net-tx` / `net-rx`.

use super::{read_config_bytes, DeviceError, Handled, VirtioDevice, TYPE_NET};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use virtio_queue::desc::split::Descriptor;
use virtio_queue::{Queue, QueueT};
use vm_memory::{Bytes, GuestMemoryMmap};

const F_MAC: u64 = 1 << 5;
/// `struct virtio_net_hdr_v1`: every frame is preceded by one.
const HDR_LEN: usize = 12;
/// The largest frame: an Ethernet frame without FCS, no offloads offered.
const MAX_FRAME: usize = 1514;
const RX: u16 = 0;
const TX: u16 = 1;

/// A tap interface opened for one VM.
pub struct Tap {
    file: File,
    name: String,
}

impl Tap {
    /// Attach to (or create) tap interface `name`, non-blocking.
    pub fn open(name: &str) -> std::io::Result<Tap> {
        const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
        const IFF_TAP: libc::c_short = 0x0002;
        const IFF_NO_PI: libc::c_short = 0x1000;
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("tap name {name:?} must be 1 to 15 bytes"),
            ));
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/dev/net/tun")?;
        // SAFETY: ifreq is plain data; zeroed is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
        // SAFETY: TUNSETIFF reads and writes one ifreq, which lives across the call.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, &mut req) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Tap {
            file,
            name: name.to_owned(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A second handle on the same queue, for the receive thread's poll.
    pub fn try_clone(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }
}

use std::os::unix::fs::OpenOptionsExt;

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
        }
    }

    /// The flag the receive thread watches.
    pub fn waiting(&self) -> Arc<AtomicBool> {
        self.waiting.clone()
    }

    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, DeviceError> {
        let mut used = false;
        let mut frame = Vec::with_capacity(HDR_LEN + MAX_FRAME);
        while let Some(chain) = queue.pop_descriptor_chain(mem) {
            let head = chain.head_index();
            let descs: Vec<Descriptor> = chain.collect();
            frame.clear();
            let mut result = Ok(());
            for d in &descs {
                if d.is_write_only() {
                    result = Err(DeviceError::BadChain {
                        head,
                        why: "writable descriptor in a transmit chain".into(),
                    });
                    break;
                }
                let at = frame.len();
                if at + d.len() as usize > HDR_LEN + MAX_FRAME {
                    result = Err(DeviceError::BadChain {
                        head,
                        why: "frame longer than 1514 bytes".into(),
                    });
                    break;
                }
                frame.resize(at + d.len() as usize, 0);
                if let Err(e) = mem.read_slice(&mut frame[at..], d.addr()) {
                    result = Err(e.into());
                    break;
                }
            }
            queue.add_used(mem, head, 0)?;
            used = true;
            result?;
            if frame.len() <= HDR_LEN {
                return Err(DeviceError::BadChain {
                    head,
                    why: "transmit chain without a frame".into(),
                });
            }
            let payload = &frame[HDR_LEN..];
            probes::vmm::net__tx(|| (self.vm, self.index, payload.len() as u32));
            match self.tap.file.write(payload) {
                Ok(_) => {}
                // A full tap queue drops the frame, as a congested wire would.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => eprintln!("lumen vmm: {}: tap {}: {e}", self.name, self.tap.name),
            }
        }
        Ok(used)
    }

    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemoryMmap) -> Result<bool, DeviceError> {
        let mut used = false;
        loop {
            if self.pending.is_none() {
                let mut buf = vec![0u8; MAX_FRAME];
                match self.tap.file.read(&mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        self.pending = Some(buf);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e.into()),
                }
            }
            let Some(chain) = queue.pop_descriptor_chain(mem) else {
                break;
            };
            let head = chain.head_index();
            let descs: Vec<Descriptor> = chain.collect();
            let frame = self.pending.take().unwrap_or_default();
            let mut packet = vec![0u8; HDR_LEN];
            // num_buffers = 1: the frame fits in this one chain.
            packet[10] = 1;
            packet.extend_from_slice(&frame);
            let mut at = 0usize;
            let mut result = Ok(());
            for d in &descs {
                if at == packet.len() {
                    break;
                }
                if !d.is_write_only() {
                    result = Err(DeviceError::BadChain {
                        head,
                        why: "read-only descriptor in a receive chain".into(),
                    });
                    break;
                }
                let n = (d.len() as usize).min(packet.len() - at);
                if let Err(e) = mem.write_slice(&packet[at..at + n], d.addr()) {
                    result = Err(e.into());
                    break;
                }
                at += n;
            }
            if result.is_ok() && at < packet.len() {
                result = Err(DeviceError::BadChain {
                    head,
                    why: format!("receive buffers hold {at} of {} bytes", packet.len()),
                });
            }
            queue.add_used(mem, head, at as u32)?;
            used = true;
            result?;
            probes::vmm::net__rx(|| (self.vm, self.index, frame.len() as u32));
        }
        self.waiting.store(self.pending.is_some(), Ordering::SeqCst);
        Ok(used)
    }
}

impl VirtioDevice for Net {
    fn device_type(&self) -> u32 {
        TYPE_NET
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn features(&self) -> u64 {
        F_MAC
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &[256, 256]
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
        let used = match index {
            RX => self.receive(queue, mem)?,
            TX => self.transmit(queue, mem)?,
            _ => false,
        };
        Ok(Handled { used })
    }
    fn reset(&mut self) {
        self.pending = None;
        self.waiting.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::virtio::test_utils::{memory, offer, used, Buffer, BUFFERS};
    use std::os::fd::FromRawFd;
    use vm_memory::GuestAddress;

    /// A device whose tap is one end of a datagram socket pair, and the
    /// other end, where the test plays the wire.
    fn net() -> (Net, File) {
        let mut fds = [0; 2];
        // SAFETY: socketpair writes two descriptors into the array it is given.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        // SAFETY: both descriptors are new and owned by nothing else.
        let (ours, wire) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        let tap = Tap {
            file: ours,
            name: "test0".into(),
        };
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
