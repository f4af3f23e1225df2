//! Attaching loaded programs to probes: a [`Link`] per probe, detached when dropped.
//!
//! Each probe kind has its own function, taking what fits that kind:
//! [`attach_tracepoint`] (tracefs `category:name`), [`attach_raw_tracepoint`],
//! [`attach_sampler`] (one perf counter per CPU: `profile-N` and `cpc` on
//! every online CPU, `tick-N` on one), and [`attach_uprobe`] (path + file
//! offset: `pid`, USDT, and BEGIN/END/ERROR on our own binary).
//!
//! All but raw tracepoints go through `perf_event_open(2)` and
//! `PERF_EVENT_IOC_SET_BPF`; the program runs from the moment the event is
//! enabled until the [`Link`] is dropped (events disabled, fds closed). The
//! kernel keeps its own reference to the program, so the
//! [`crate::load::Program`] may be dropped before the link.

use crate::sys::{self, bpf, perf, SysError};
use crate::tracefs::{Tracefs, TracefsError};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// tracefs is not mounted and could not be mounted.
    #[error(transparent)]
    Tracefs(#[from] TracefsError),
    /// A sysfs or tracefs file the attachment needs could not be read:
    /// usually a tracepoint that does not exist.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A sysfs or tracefs file held something unexpected.
    #[error("unexpected contents {text:?} in {}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it held.
        text: String,
    },
    /// A uprobe target path contains a NUL byte.
    #[error("invalid path {}", .0.display())]
    Path(PathBuf),
    /// A system call failed while attaching to `probe`.
    #[error("cannot attach to {probe}: {source}")]
    Sys {
        /// The probe, e.g. `syscalls:sys_enter_getpid` or `cpu-clock on CPU 1`.
        probe: String,
        /// The failed call.
        #[source]
        source: SysError,
    },
}

/// One perf event carrying a program; disabled when dropped, then closed.
#[derive(Debug)]
struct PerfEvent {
    fd: OwnedFd,
}

impl Drop for PerfEvent {
    fn drop(&mut self) {
        // Closing the fd detaches the program too; disabling first stops it
        // at once even if the fd is shared. Nothing to do if it fails.
        let _ = perf::disable(self.fd.as_fd());
    }
}

/// An attached program. Dropping it detaches the program from every event
/// it holds; the drop returns once the kernel will no longer run it (which
/// can take tens of milliseconds: see [`detach_all`]).
#[derive(Debug)]
pub struct Link {
    probe: String,
    events: Vec<PerfEvent>,
    raw_tracepoint: Option<OwnedFd>,
}

impl Link {
    /// What the program is attached to, for messages.
    pub fn probe(&self) -> &str {
        &self.probe
    }

    /// How many kernel attachments the link holds (one per CPU for cpu-clock).
    pub fn attachments(&self) -> usize {
        self.events.len() + usize::from(self.raw_tracepoint.is_some())
    }
}

/// Detach every link, in parallel, and return when all are detached.
///
/// Detaching is the slow half of a probe's life: closing the last perf
/// event of a tracepoint waits for RCU grace periods in the kernel's
/// unregister path (measured on Linux 6.18: ~70 ms a tracepoint, ~110 ms a
/// uprobe, against ~0.5 ms and ~8 ms to attach). Dropping links one by one
/// adds those waits up; this overlaps them (8 tracepoints: ~300 ms
/// instead of ~580 ms).
pub fn detach_all(links: Vec<Link>) {
    std::thread::scope(|scope| {
        for link in links {
            scope.spawn(move || drop(link));
        }
    });
}

/// Open one perf event with `open`, hang `prog` on it and enable it.
fn attach_perf(
    probe: &str,
    prog: BorrowedFd<'_>,
    open: impl FnOnce() -> Result<OwnedFd, SysError>,
) -> Result<PerfEvent, AttachError> {
    let sys_err = |source| AttachError::Sys {
        probe: probe.to_string(),
        source,
    };
    let event = PerfEvent {
        fd: open().map_err(sys_err)?,
    };
    perf::set_bpf(event.fd.as_fd(), prog).map_err(sys_err)?;
    perf::enable(event.fd.as_fd()).map_err(sys_err)?;
    Ok(event)
}

/// Read and parse one small text file.
fn read_number<T: std::str::FromStr>(path: PathBuf) -> Result<T, AttachError> {
    let text = fs::read_to_string(&path).map_err(|source| AttachError::Read {
        path: path.clone(),
        source,
    })?;
    text.trim().parse().map_err(|_| AttachError::Parse {
        path,
        text: text.trim().to_string(),
    })
}

/// The tracefs id of `category:name` (`events/<category>/<name>/id`).
pub fn tracepoint_id(tracefs: &Tracefs, category: &str, name: &str) -> Result<u64, AttachError> {
    read_number(
        tracefs
            .root()
            .join("events")
            .join(category)
            .join(name)
            .join("id"),
    )
}

/// Attach a [`bpf::ProgKind::Tracepoint`] program to the tracepoint
/// `category:name`, e.g. (`syscalls`, `sys_enter_getpid`), using the
/// tracefs already mounted or mounting it.
pub fn attach_tracepoint(
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
) -> Result<Link, AttachError> {
    attach_tracepoint_in(&Tracefs::open()?, prog, category, name)
}

/// [`attach_tracepoint`] with a given tracefs.
pub fn attach_tracepoint_in(
    tracefs: &Tracefs,
    prog: BorrowedFd<'_>,
    category: &str,
    name: &str,
) -> Result<Link, AttachError> {
    let probe = format!("{category}:{name}");
    let id = tracepoint_id(tracefs, category, name)?;
    let event = attach_perf(&probe, prog, || perf::open_tracepoint(id))?;
    Ok(Link {
        probe,
        events: vec![event],
        raw_tracepoint: None,
    })
}

/// Attach a [`bpf::ProgKind::RawTracepoint`] program to the raw tracepoint
/// `name` (e.g. `sys_enter`: one program for every syscall).
pub fn attach_raw_tracepoint(prog: BorrowedFd<'_>, name: &str) -> Result<Link, AttachError> {
    let probe = format!("raw tracepoint {name}");
    let fd = bpf::raw_tracepoint_open(name, prog).map_err(|source| AttachError::Sys {
        probe: probe.clone(),
        source,
    })?;
    Ok(Link {
        probe,
        events: Vec::new(),
        raw_tracepoint: Some(fd),
    })
}

/// Attach a [`bpf::ProgKind::Trampoline`] program (fbt) to the kernel
/// function it was loaded for.
pub fn attach_trampoline(prog: BorrowedFd<'_>, probe: &str) -> Result<Link, AttachError> {
    let fd = bpf::trampoline_attach(prog).map_err(|source| AttachError::Sys {
        probe: probe.to_string(),
        source,
    })?;
    Ok(Link {
        probe: probe.to_string(),
        events: Vec::new(),
        raw_tracepoint: Some(fd),
    })
}

/// Attach a [`bpf::ProgKind::PerfEvent`] program to a sampling counter
/// (the cpu-clock every N ns for `profile-N`/`tick-N`, any counter for
/// `cpc`) on each of `cpus` ([`crate::sys::online_cpus`] for `profile-N`
/// and `cpc`, one CPU for `tick-N`).
pub fn attach_sampler(
    prog: BorrowedFd<'_>,
    sampler: &perf::Sampler,
    cpus: &[u32],
) -> Result<Link, AttachError> {
    let what = format!(
        "perf counter {}:{} every {} ({:?})",
        sampler.perf_type, sampler.config, sampler.period, sampler.mode
    );
    let mut events = Vec::with_capacity(cpus.len());
    for &cpu in cpus {
        let probe = format!("{what} on CPU {cpu}");
        events.push(attach_perf(&probe, prog, || {
            perf::open_sampler(sampler, cpu)
        })?);
    }
    Ok(Link {
        probe: format!("{what} on CPUs {cpus:?}"),
        events,
        raw_tracepoint: None,
    })
}

/// The `uprobe` PMU: its perf type and the config bit that makes a uretprobe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UprobePmu {
    /// `/sys/bus/event_source/devices/uprobe/type`.
    pub perf_type: u32,
    /// The bit named in `/sys/bus/event_source/devices/uprobe/format/retprobe` (`config:N`).
    pub retprobe_bit: u32,
}

const UPROBE_PMU: &str = "/sys/bus/event_source/devices/uprobe";

impl UprobePmu {
    /// Read the PMU's description from sysfs (once per process).
    pub fn get() -> Result<UprobePmu, AttachError> {
        static PMU: OnceLock<UprobePmu> = OnceLock::new();
        if let Some(pmu) = PMU.get() {
            return Ok(*pmu);
        }
        let root = Path::new(UPROBE_PMU);
        let perf_type = read_number(root.join("type"))?;
        let format = root.join("format/retprobe");
        let text = fs::read_to_string(&format).map_err(|source| AttachError::Read {
            path: format.clone(),
            source,
        })?;
        let retprobe_bit = parse_format_bit(&text).ok_or_else(|| AttachError::Parse {
            path: format,
            text: text.trim().to_string(),
        })?;
        Ok(*PMU.get_or_init(|| UprobePmu {
            perf_type,
            retprobe_bit,
        }))
    }
}

/// `config:0` (or `config:0-0`) → 0.
fn parse_format_bit(text: &str) -> Option<u32> {
    let bits = text.trim().strip_prefix("config:")?;
    bits.split('-').next()?.parse().ok()
}

/// Attach a [`bpf::ProgKind::Kprobe`] program as a uprobe (or, with `ret`,
/// a uretprobe) on the binary at `path`, at file `offset` (see
/// [`crate::selfprobe::self_offset`] for our own functions). `pid` limits it
/// to one process; `None` fires in every process running `path`.
pub fn attach_uprobe(
    prog: BorrowedFd<'_>,
    path: &Path,
    offset: u64,
    ret: bool,
    pid: Option<i32>,
) -> Result<Link, AttachError> {
    attach_uprobe_counted(prog, path, offset, 0, ret, pid)
}

/// [`attach_uprobe`] with a USDT semaphore at file offset `ref_ctr` (0: none)
/// that the kernel raises while the probe is attached.
pub fn attach_uprobe_counted(
    prog: BorrowedFd<'_>,
    path: &Path,
    offset: u64,
    ref_ctr: u64,
    ret: bool,
    pid: Option<i32>,
) -> Result<Link, AttachError> {
    let pmu = UprobePmu::get()?;
    let c_path =
        CString::new(path.as_os_str().as_bytes()).map_err(|_| AttachError::Path(path.into()))?;
    let probe = format!(
        "{} {}+{offset:#x}{}",
        if ret { "uretprobe" } else { "uprobe" },
        path.display(),
        pid.map(|p| format!(" in pid {p}")).unwrap_or_default()
    );
    let bit = ret.then_some(pmu.retprobe_bit);
    let event = attach_perf(&probe, prog, || {
        perf::open_uprobe(pmu.perf_type, bit, &c_path, offset, ref_ctr, pid)
    })?;
    Ok(Link {
        probe,
        events: vec![event],
        raw_tracepoint: None,
    })
}

/// The CPUs `profile-N` runs on: every online CPU.
pub fn profile_cpus() -> Result<Vec<u32>, sys::CpuListError> {
    sys::online_cpus()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pmu_format_bits() {
        assert_eq!(parse_format_bit("config:0\n"), Some(0));
        assert_eq!(parse_format_bit("config:3-3"), Some(3));
        assert_eq!(parse_format_bit("config1:0"), None);
    }

    #[test]
    fn missing_tracepoint_is_a_read_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = tracepoint_id(&Tracefs::at(dir.path()), "nosuch", "event").unwrap_err();
        assert!(matches!(err, AttachError::Read { .. }));
        assert!(err.to_string().contains("events/nosuch/event/id"), "{err}");
    }
}
