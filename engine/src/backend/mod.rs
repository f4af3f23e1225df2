//! Where a D program's code runs: the kernel (`bpf(2)`) or this process
//! (rbpf), behind one interface.
//!
//! Data flow: [`crate::program`] generates an object for a [`Backend`]
//! (its [`Backend::portable`] tells code generation what it may use), and
//! the backend makes the object real ([`Backend::instantiate`]): its maps
//! ([`Map`]) and loaded programs ([`Program`]). The consumer
//! ([`crate::run`]) then attaches each program ([`Program::attach`]),
//! fires the ones it runs itself ([`Program::fire`]: BEGIN, END, ERROR),
//! reads records ([`Map::records`]) and aggregations through [`Map`],
//! never asking which backend it has.
//!
//! | backend | maps | programs | records | attaches |
//! |---|---|---|---|---|
//! | [`kernel`] | `bpf(2)` maps | verified and loaded by the kernel | the kernel's ring buffer | every [`Attachment`] |
//! | [`user`] | [`crate::user::map::UserMap`] | interpreted by rbpf | the emulated ring | timers, fired by the consumer |

pub mod kernel;
pub mod user;

use crate::attach::Link;
use crate::sys::bpf::UpdateFlags;
use crate::sys::SysError;
use crate::target::Attachment;
use crate::tracefs::Tracefs;
use d_lang::codegen::{MapRole, Object};
use std::os::fd::BorrowedFd;

pub use kernel::KERNEL;
pub use user::USER;

/// Why an object could not be made real on a backend.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// A map could not be created or filled.
    #[error("failed to create map {name}: {source}")]
    Map {
        /// The map's name.
        name: String,
        /// The failing call.
        source: SysError,
    },
    /// A user-space map could not be made.
    #[error("failed to create map {name}: {source}")]
    UserMap {
        /// The map's name.
        name: String,
        /// Why.
        source: crate::user::map::MapError,
    },
    /// A program could not be prepared for the user-space backend.
    #[error("failed to prepare the program for {probe}: {source}")]
    UserLoad {
        /// Probe the program was for.
        probe: String,
        /// Why.
        source: crate::user::UserError,
    },
    /// The verifier (or kernel) refused a program.
    #[error("failed to load the program for {probe} (clause {clause}): {source}")]
    Load {
        /// Probe the program was for.
        probe: String,
        /// 1-based clause number of its first clause.
        clause: usize,
        /// The refusal with the verifier log.
        source: crate::sys::bpf::ProgLoadError,
    },
}

/// A place programs run.
pub trait Backend: Sync + std::fmt::Debug {
    /// Its name, as `-x backend=` takes it.
    fn name(&self) -> &'static str;

    /// Whether code generation must avoid what only the kernel offers
    /// (kernel memory reads, per-CPU maps of several CPUs…).
    fn portable(&self) -> bool;

    /// Why this machine cannot use the backend, if it cannot.
    fn refused(&self) -> Option<String>;

    /// Whether a program attached at `attachment` can run here.
    fn runs(&self, attachment: &Attachment) -> bool;

    /// Create `object`'s maps, fill the constant ones, and load its
    /// programs, in the object's order.
    fn instantiate(&self, object: &Object) -> Result<Loaded, InstanceError>;
}

/// An object's maps and programs on one backend.
pub struct Loaded {
    /// Maps, by the object's map index.
    pub maps: Vec<Box<dyn Map>>,
    /// Programs, by the object's program index.
    pub programs: Vec<Box<dyn Program>>,
}

/// A map as the consumer reads and writes it.
pub trait Map {
    /// Bytes a lookup returns: per-CPU kernel maps hold one slot per CPU.
    fn lookup_size(&self) -> usize;

    /// A copy of the value (all CPUs' slots for per-CPU kernel maps).
    fn lookup_vec(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SysError>;

    /// One value per CPU.
    fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, SysError>;

    /// Write a value of [`Self::lookup_size`] bytes.
    fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), SysError>;

    /// Remove a key; `Ok(false)` if it was absent.
    fn delete(&self, key: &[u8]) -> Result<bool, SysError>;

    /// Every key.
    fn keys(&self) -> Result<Vec<Vec<u8>>, SysError>;

    /// The records this map (the object's records map) delivers.
    fn records(&self) -> Result<Box<dyn Records>, String>;
}

/// A loaded program.
pub trait Program {
    /// Attach the program at `attachment` (not a self probe: the consumer
    /// fires those). `probe` names it in errors.
    fn attach(
        &self,
        attachment: &Attachment,
        probe: &str,
        tracefs: Option<&Tracefs>,
    ) -> Result<Attached, String>;

    /// Run the program once with these raw-tracepoint arguments.
    fn fire(&self, args: [u64; 6]) -> Result<(), String>;

    /// The kernel's fd of the program, for a prog array (syscall
    /// dispatch); `None` off the kernel.
    fn kernel_fd(&self) -> Option<BorrowedFd<'_>>;
}

/// What attaching a program made.
pub enum Attached {
    /// Links to keep until detach.
    Links(Vec<Link>),
    /// A timer the consumer fires itself, every `period`.
    ConsumerTimer(std::time::Duration),
}

/// Where a program's records arrive.
pub trait Records {
    /// Wait up to `wait` for records and hand each to `f`.
    fn poll(&mut self, wait: std::time::Duration, f: &mut dyn FnMut(&[u8])) -> Result<(), String>;

    /// Hand what is there now to `f`, without waiting.
    fn drain(&mut self, f: &mut dyn FnMut(&[u8]));
}

/// The backend `-x backend=NAME` names: `user`, else the kernel.
pub fn named(name: Option<&str>) -> &'static dyn Backend {
    match name {
        Some(n) if n == USER.name() => &USER,
        _ => &KERNEL,
    }
}

/// Nanoseconds to add to `CLOCK_MONOTONIC` (what `bpf_ktime_get_ns` reads)
/// to get wall-clock time, for `walltimestamp`.
fn wall_offset() -> i64 {
    let read = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    };
    read(libc::CLOCK_REALTIME) - read(libc::CLOCK_MONOTONIC)
}

/// Entry 0 of the strings map, or of the globals map (whose first word is
/// the wall-clock offset), as it must be before any program runs.
fn initial_value(role: &MapRole, initial: Option<&Vec<u8>>, size: usize) -> Option<Vec<u8>> {
    match role {
        MapRole::Strings => {
            let mut value = initial.cloned().unwrap_or_default();
            value.resize(size, 0);
            Some(value)
        }
        MapRole::Globals => {
            let mut value = vec![0u8; size.max(8)];
            value[..8].copy_from_slice(&wall_offset().to_ne_bytes());
            value.truncate(size);
            Some(value)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_by_name() {
        assert_eq!(named(Some("user")).name(), "user");
        assert_eq!(named(Some("kernel")).name(), "kernel");
        assert_eq!(named(None).name(), "kernel");
        assert!(named(Some("user")).portable() && !named(None).portable());
        let timer = Attachment::Timer {
            period_ns: 1_000_000,
            all_cpus: false,
        };
        let tracepoint = Attachment::Tracepoint(crate::tracefs::EventName::new("a", "b"));
        assert!(USER.runs(&timer) && !USER.runs(&tracepoint));
        assert!(KERNEL.runs(&timer) && KERNEL.runs(&tracepoint));
        assert!(USER.refused().is_none());
    }

    #[test]
    fn globals_start_with_the_wall_clock_offset() {
        let v = initial_value(&MapRole::Globals, None, 16).unwrap();
        let offset = i64::from_ne_bytes(v[..8].try_into().unwrap());
        // Realtime is decades past boot.
        assert!(offset > 1_000_000_000 * 3600 * 24 * 365);
        assert_eq!(
            initial_value(&MapRole::Strings, Some(&vec![1, 2]), 4),
            Some(vec![1, 2, 0, 0])
        );
    }
}
