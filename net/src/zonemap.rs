//! The zones' table of network namespaces (`probes::netns`): a booting
//! zone's supervisor enters its namespace's cookie with the zone's name
//! and id, so the tracer names the zone of a packet or socket by its
//! namespace, in the kernel, even for zones booted after a script began.

use crate::bpf::{self, Map};
use crate::error::{NetError, Result};
use probes::netns;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `SO_NETNS_COOKIE` (Linux 5.14).
const SO_NETNS_COOKIE: i32 = 71;

/// The pinned table, made (and the bpf filesystem mounted) if missing.
fn table() -> Result<Map> {
    let value = (8 + netns::NAME_LEN) as u32;
    match bpf::obj_get(netns::PIN) {
        Ok(fd) => return Ok(Map::from_fd(fd, 8, value as usize, false)),
        Err(e) if e.errno() != Some(libc::ENOENT) => return Err(e),
        Err(_) => {}
    }
    mount_bpffs()?;
    let map = Map::create(netns::MAP_TYPE, 8, value, netns::ENTRIES, "netns_zones")?;
    match map.pin(netns::PIN) {
        Ok(()) => Ok(map),
        // Another zone booting pinned one first: use that.
        Err(e) if e.errno() == Some(libc::EEXIST) => Ok(Map::from_fd(
            bpf::obj_get(netns::PIN)?,
            8,
            value as usize,
            false,
        )),
        Err(e) => Err(e),
    }
}

fn mount_bpffs() -> Result<()> {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    // SAFETY: statfs fills the struct it is given.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated literal and the struct above.
    let mounted =
        unsafe { libc::statfs(c"/sys/fs/bpf".as_ptr(), &mut st) } == 0 && st.f_type == BPF_FS_MAGIC;
    if !mounted {
        let _ = std::fs::create_dir_all("/sys/fs/bpf");
        // SAFETY: mount with NUL-terminated literals and no data.
        let r = unsafe {
            libc::mount(
                c"bpf".as_ptr(),
                c"/sys/fs/bpf".as_ptr(),
                c"bpf".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if r != 0 {
            return Err(NetError::last_os("mount bpf on /sys/fs/bpf"));
        }
    }
    if let Some(dir) = std::path::Path::new(netns::PIN).parent() {
        std::fs::create_dir_all(dir).map_err(|e| NetError::State {
            path: dir.into(),
            source: e,
        })?;
    }
    Ok(())
}

/// The cookie of network namespace `ns`: a socket made there tells it.
pub fn cookie(ns: BorrowedFd<'_>) -> Result<u64> {
    let home = std::fs::File::open("/proc/thread-self/ns/net").map_err(|e| NetError::Sys {
        call: "open /proc/thread-self/ns/net".into(),
        errno: crate::error::Errno(e.raw_os_error().unwrap_or(0)),
    })?;
    // SAFETY: setns on descriptors we hold; only this thread moves.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(NetError::last_os("setns into the zone's network namespace"));
    }
    // SAFETY: a plain socket call.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let sock_err = (raw < 0).then(|| NetError::last_os("socket in the zone's namespace"));
    // SAFETY: as above, back home; failing to would leave this thread in
    // the zone's namespace.
    if unsafe { libc::setns(home.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        panic!("setns back to the host's network namespace failed");
    }
    if let Some(e) = sock_err {
        return Err(e);
    }
    // SAFETY: the socket just made is ours.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut v: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `v`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut v as *mut u64).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(NetError::last_os("getsockopt(SO_NETNS_COOKIE)"));
    }
    Ok(v)
}

/// Name namespace `ns` zone `name` (id `zoneid`); its cookie.
pub fn register(ns: BorrowedFd<'_>, zoneid: u64, name: &str) -> Result<u64> {
    let c = cookie(ns)?;
    let entry = netns::ZoneEntry::new(zoneid, name);
    table()?.update(&c.to_ne_bytes(), &entry.to_bytes())?;
    Ok(c)
}

/// Forget namespace `cookie` (its zone stopped).
pub fn unregister(cookie: u64) -> Result<()> {
    match bpf::obj_get(netns::PIN) {
        Ok(fd) => Map::from_fd(fd, 8, 8 + netns::NAME_LEN, false).delete(&cookie.to_ne_bytes()),
        Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The zone a namespace cookie names, if any: (zoneid, name).
pub fn lookup(cookie: u64) -> Result<Option<(u64, String)>> {
    let Ok(fd) = bpf::obj_get(netns::PIN) else {
        return Ok(None);
    };
    let m = Map::from_fd(fd, 8, 8 + netns::NAME_LEN, false);
    Ok(m.lookup(&cookie.to_ne_bytes())?.map(|v| {
        let mut id = [0u8; 8];
        id.copy_from_slice(&v[..8]);
        let name = &v[8..];
        let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
        (
            u64::from_ne_bytes(id),
            String::from_utf8_lossy(&name[..end]).into_owned(),
        )
    }))
}
