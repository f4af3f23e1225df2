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
    /// Attach to (or create) tap interface `name`, non-blocking; or, for
    /// `fd:N`, adopt descriptor N, a tap someone else opened and handed
    /// down (a `kvm` zone's supervisor makes its VM's taps on the host's
    /// etherstub, where the zone's own namespace cannot reach).
    pub fn open(name: &str) -> std::io::Result<Tap> {
        if let Some(n) = name.strip_prefix("fd:") {
            return Tap::adopt(n);
        }
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

    fn adopt(n: &str) -> std::io::Result<Tap> {
        use std::os::fd::FromRawFd;
        const TUNGETIFF: libc::c_ulong = 0x8004_54d2;
        let bad =
            |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_string());
        let fd: i32 = n
            .parse()
            .ok()
            .filter(|f| *f > 2)
            .ok_or_else(|| bad(&format!("tap fd:{n}: not a descriptor number above 2")))?;
        // SAFETY: ifreq is plain data; zeroed is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        // SAFETY: TUNGETIFF writes one ifreq; a descriptor that is not a
        // tun/tap fails without side effects.
        if unsafe { libc::ioctl(fd, TUNGETIFF, &mut req) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fcntl on a descriptor the caller handed us.
        unsafe {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        let name: String = req
            .ifr_name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8 as char)
            .collect();
        Ok(Tap {
            // SAFETY: the descriptor was handed to this process to own.
            file: unsafe { File::from_raw_fd(fd) },
            name,
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
