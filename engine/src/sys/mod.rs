//! Every system call the engine makes to run programs, behind thin safe wrappers.
//!
//! The kernel side of the engine ([`crate::load`], [`crate::attach`],
//! [`crate::ringbuf`], [`crate::selfprobe`]) never calls `libc` itself: it
//! calls the functions here, which take and return safe Rust types
//! ([`OwnedFd`], byte slices) and fail with a [`SysError`] naming the call and
//! the errno. That keeps every `unsafe` block in these files and gives tests
//! one seam to fail a call on purpose ([`inject_fault`]).
//!
//! - [`bpf`]: `bpf(2)`: maps (create, lookup, update, delete, next key),
//!   program load with the verifier log, raw tracepoint open.
//! - [`perf`]: `perf_event_open(2)` for tracepoints, the cpu-clock software
//!   event and the `uprobe` PMU, and the perf ioctls that attach a program.
//! - [`epoll`]: waiting on a ring buffer map's fd.
//! - here: [`possible_cpus`] / [`online_cpus`] from sysfs.
//!
//! Not here: the ring buffer's `mmap` and `BPF_OBJ_GET_INFO_BY_FD`, which
//! `aya` makes when [`crate::ringbuf::RingBuf`] adopts a map fd.

pub mod bpf;
pub mod epoll;
pub mod perf;

use std::cell::RefCell;
use std::fmt;
use std::fs;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// An `errno` value, shown as its `strerror` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The `errno` of the last failed call on this thread.
    pub fn last() -> Errno {
        Errno(io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.0).to_string();
        // std appends " (os error N)"; DTrace-style messages want the bare text.
        let bare = text.split(" (os error").next().unwrap_or(&text);
        write!(f, "{bare}")
    }
}

/// A system call failed: which one, and the kernel's `errno`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{call} failed: {errno}")]
pub struct SysError {
    /// The call, e.g. `bpf(BPF_MAP_CREATE)` or `perf_event_open`.
    pub call: &'static str,
    /// The kernel's answer.
    pub errno: Errno,
}

impl SysError {
    /// The error for `call` with this thread's last `errno`.
    pub fn last(call: &'static str) -> SysError {
        SysError {
            call,
            errno: Errno::last(),
        }
    }

    /// The raw errno value (`libc::EPERM`, …).
    pub fn raw_errno(&self) -> i32 {
        self.errno.0
    }
}

thread_local! {
    static FAULTS: RefCell<Vec<(&'static str, i32)>> = const { RefCell::new(Vec::new()) };
}

/// Make the next call named `call` (as in [`SysError::call`]) on this
/// thread fail with `errno` without reaching the kernel. For tests of the
/// error paths above this module.
pub fn inject_fault(call: &'static str, errno: i32) {
    FAULTS.with(|f| f.borrow_mut().push((call, errno)));
}

/// Fail now if a fault was injected for `call`.
fn check_fault(call: &'static str) -> Result<(), SysError> {
    FAULTS.with(|f| {
        let mut faults = f.borrow_mut();
        match faults.iter().position(|(c, _)| *c == call) {
            Some(i) => {
                let (_, errno) = faults.remove(i);
                Err(SysError {
                    call,
                    errno: Errno(errno),
                })
            }
            None => Ok(()),
        }
    })
}

/// Turn a syscall's return value into an owned fd, or the error for `call`.
fn fd_result(call: &'static str, ret: libc::c_long) -> Result<OwnedFd, SysError> {
    if ret < 0 {
        return Err(SysError::last(call));
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}

/// Turn a syscall's return value into `()`, or the error for `call`.
fn unit_result(call: &'static str, ret: libc::c_long) -> Result<(), SysError> {
    if ret < 0 {
        Err(SysError::last(call))
    } else {
        Ok(())
    }
}

/// Why a sysfs CPU list could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CpuListError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The sysfs file.
        path: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file did not hold a CPU list like `0-3,5`.
    #[error("cannot parse CPU list {text:?} in {path}")]
    Parse {
        /// The sysfs file.
        path: &'static str,
        /// What it held.
        text: String,
    },
}

const POSSIBLE: &str = "/sys/devices/system/cpu/possible";
const ONLINE: &str = "/sys/devices/system/cpu/online";

/// The CPUs the kernel may ever bring up: per-CPU map values come back as
/// one slot per possible CPU.
pub fn possible_cpus() -> Result<Vec<u32>, CpuListError> {
    read_cpu_list(POSSIBLE)
}

/// The CPUs online now: where per-CPU perf events can be opened.
pub fn online_cpus() -> Result<Vec<u32>, CpuListError> {
    read_cpu_list(ONLINE)
}

fn read_cpu_list(path: &'static str) -> Result<Vec<u32>, CpuListError> {
    let text = fs::read_to_string(path).map_err(|source| CpuListError::Read { path, source })?;
    parse_cpu_list(&text).ok_or_else(|| CpuListError::Parse {
        path,
        text: text.trim().to_string(),
    })
}

/// Parse the kernel's CPU list format: `0-3,5,7-8`.
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi): (u32, u32) = (lo.parse().ok()?, hi.parse().ok()?);
                if lo > hi {
                    return None;
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    (!cpus.is_empty()).then_some(cpus)
}

/// Read a kernel pseudo-file (`/proc/PID/maps`, tracefs's
/// `available_events`) whole. They report a size of 0, so
/// `fs::read_to_string` starts with a small buffer and reads a page or
/// less at a time; this asks for 256 KiB a read (a few reads for
/// `available_events`, not dozens, at every start).
pub fn read_pseudo_file(path: impl AsRef<std::path::Path>) -> io::Result<String> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut buf = Vec::with_capacity(256 << 10);
    loop {
        if buf.capacity() - buf.len() < 64 << 10 {
            buf.reserve(256 << 10);
        }
        let spare = buf.capacity() - buf.len();
        let start = buf.len();
        buf.resize(start + spare, 0);
        let n = match f.read(&mut buf[start..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            break;
        }
    }
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(vec![0, 1]));
        assert_eq!(parse_cpu_list("0\n"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-2,5,7-8"), Some(vec![0, 1, 2, 5, 7, 8]));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
    }

    #[test]
    fn live_cpu_lists_are_readable() {
        let possible = possible_cpus().unwrap();
        let online = online_cpus().unwrap();
        assert!(!possible.is_empty());
        assert!(online.iter().all(|c| possible.contains(c)));
    }

    #[test]
    fn injected_fault_fails_once_with_the_call_name() {
        inject_fault("bpf(BPF_MAP_CREATE)", libc::ENOMEM);
        let err = check_fault("bpf(BPF_MAP_CREATE)").unwrap_err();
        assert_eq!(err.call, "bpf(BPF_MAP_CREATE)");
        assert_eq!(err.raw_errno(), libc::ENOMEM);
        assert_eq!(
            err.to_string(),
            "bpf(BPF_MAP_CREATE) failed: Cannot allocate memory"
        );
        assert!(check_fault("bpf(BPF_MAP_CREATE)").is_ok());
    }
}
