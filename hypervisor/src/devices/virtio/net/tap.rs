//! A tap interface: the host end of a VM's network device, one Ethernet
//! frame per read or write.

use super::MAX_FRAME;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

/// A tap interface opened for one VM, non-blocking.
pub struct Tap {
    file: File,
    name: String,
}

impl Tap {
    /// Attach to (or create) tap interface `name`, non-blocking; or, for
    /// `fd:N`, adopt descriptor N, a tap someone else opened and handed
    /// down (a `kvm` zone's supervisor makes its VM's taps on the host's
    /// etherstub, where the zone's own namespace cannot reach).
    pub fn open(name: &str) -> io::Result<Tap> {
        if let Some(n) = name.strip_prefix("fd:") {
            return Tap::adopt(n);
        }
        const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
        const IFF_TAP: libc::c_short = 0x0002;
        const IFF_NO_PI: libc::c_short = 0x1000;
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
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
            return Err(io::Error::last_os_error());
        }
        Ok(Tap {
            file,
            name: name.to_owned(),
        })
    }

    fn adopt(n: &str) -> io::Result<Tap> {
        use std::os::fd::FromRawFd;
        const TUNGETIFF: libc::c_ulong = 0x8004_54d2;
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, why.to_string());
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
            return Err(io::Error::last_os_error());
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
    pub fn try_clone(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// The next frame the tap holds, or `None` when it holds none now.
    pub fn read_frame(&self) -> io::Result<Option<Vec<u8>>> {
        let mut frame = vec![0u8; MAX_FRAME];
        match (&self.file).read(&mut frame) {
            Ok(n) => {
                frame.truncate(n);
                Ok(Some(frame))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Send one frame; WouldBlock when the tap's queue is full.
    pub fn write_frame(&self, frame: &[u8]) -> io::Result<()> {
        (&self.file).write(frame).map(drop)
    }

    /// A tap whose wire is one end of a datagram socket pair; the other
    /// end, where a test plays the host.
    #[cfg(test)]
    pub(crate) fn socket_pair() -> (Tap, File) {
        use std::os::fd::FromRawFd;
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
        assert_eq!(rc, 0, "{}", io::Error::last_os_error());
        // SAFETY: both descriptors are new and owned by nothing else.
        let (ours, wire) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        let tap = Tap {
            file: ours,
            name: "test0".into(),
        };
        (tap, wire)
    }
}
