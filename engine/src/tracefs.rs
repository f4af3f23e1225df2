//! The kernel's tracefs: finding or mounting it, and reading its event list and format files.
//!
//! Every file-system and mount call the catalogue makes goes through
//! [`Tracefs`], so tests point it at a directory tree of their own
//! ([`Tracefs::at`]) instead of the live kernel.

use nix::mount::{mount, MsFlags};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where tracefs is mounted when nothing else has mounted it.
pub const DEFAULT_MOUNT_POINT: &str = "/sys/kernel/tracing";

/// Why tracefs could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TracefsError {
    /// `/proc/mounts` could not be read.
    #[error("cannot read /proc/mounts: {}", crate::error::reason(.0))]
    Mounts(#[source] io::Error),
    /// Mounting tracefs failed (usually: not root).
    #[error("cannot mount tracefs on {path}: {}", .source.desc())]
    Mount {
        /// The mount point tried.
        path: String,
        /// The kernel's answer.
        #[source]
        source: nix::Error,
    },
    /// A tracefs file could not be read.
    #[error("cannot read {path}: {}", crate::error::reason(.source))]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// One tracepoint as tracefs names it: `subsystem:event`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventName {
    /// The subsystem (tracefs `events/` directory), e.g. `sched`.
    pub subsystem: String,
    /// The event, e.g. `sched_switch`.
    pub event: String,
}

impl EventName {
    /// `subsystem:event`.
    pub fn new(subsystem: &str, event: &str) -> EventName {
        EventName {
            subsystem: subsystem.to_string(),
            event: event.to_string(),
        }
    }
}

/// A tracefs mount (or a directory laid out like one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracefs {
    root: PathBuf,
}

impl Tracefs {
    /// Use the tracefs already mounted, or mount it on [`DEFAULT_MOUNT_POINT`].
    pub fn open() -> Result<Tracefs, TracefsError> {
        let mounts = crate::sys::read_pseudo_file("/proc/mounts").map_err(TracefsError::Mounts)?;
        if let Some(root) = tracefs_mount_point(&mounts) {
            return Ok(Tracefs { root });
        }
        mount(
            Some("tracefs"),
            DEFAULT_MOUNT_POINT,
            Some("tracefs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        )
        .map_err(|source| TracefsError::Mount {
            path: DEFAULT_MOUNT_POINT.into(),
            source,
        })?;
        Ok(Tracefs {
            root: PathBuf::from(DEFAULT_MOUNT_POINT),
        })
    }

    /// A tracefs-shaped directory tree at `root` (tests, or an unusual mount).
    pub fn at(root: impl Into<PathBuf>) -> Tracefs {
        Tracefs { root: root.into() }
    }

    /// The mount point.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every tracepoint, sorted, from `available_events` (one file read: cheap).
    pub fn events(&self) -> Result<Vec<EventName>, TracefsError> {
        let path = self.root.join("available_events");
        let text = crate::sys::read_pseudo_file(&path).map_err(|source| TracefsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut events = parse_available_events(&text);
        events.sort();
        events.dedup();
        Ok(events)
    }

    /// Path of an event's `format` file.
    pub fn format_path(&self, event: &EventName) -> PathBuf {
        self.root
            .join("events")
            .join(&event.subsystem)
            .join(&event.event)
            .join("format")
    }

    /// The text of an event's `format` file.
    pub fn read_format(&self, event: &EventName) -> Result<String, TracefsError> {
        let path = self.format_path(event);
        fs::read_to_string(&path).map_err(|source| TracefsError::Read {
            path: path.display().to_string(),
            source,
        })
    }
}

/// The first tracefs mount point listed in `/proc/mounts` text.
fn tracefs_mount_point(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let _source = fields.next()?;
        let target = fields.next()?;
        let fstype = fields.next()?;
        (fstype == "tracefs").then(|| PathBuf::from(unescape_mount_path(target)))
    })
}

/// `/proc/mounts` escapes blanks and backslashes as octal (`\040`).
fn unescape_mount_path(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let oct = s.get(i + 1..i + 4).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(oct, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `available_events`: one `subsystem:event` a line.
fn parse_available_events(text: &str) -> Vec<EventName> {
    text.lines()
        .filter_map(|line| {
            let (subsystem, event) = line.trim().split_once(':')?;
            if subsystem.is_empty() || event.is_empty() {
                return None;
            }
            Some(EventName {
                subsystem: subsystem.to_string(),
                event: event.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tracefs_in_proc_mounts() {
        let mounts = "proc /proc proc rw 0 0\n\
                      sysfs /sys sysfs rw 0 0\n\
                      tracefs /sys/kernel/debug/tracing tracefs rw 0 0\n";
        assert_eq!(
            tracefs_mount_point(mounts),
            Some(PathBuf::from("/sys/kernel/debug/tracing"))
        );
        assert_eq!(tracefs_mount_point("proc /proc proc rw 0 0\n"), None);
        assert_eq!(
            tracefs_mount_point("none /mnt/my\\040trace tracefs rw 0 0\n"),
            Some(PathBuf::from("/mnt/my trace"))
        );
    }

    #[test]
    fn parses_available_events() {
        let ev = parse_available_events("sched:sched_switch\nsyscalls:sys_enter_read\n\nbogus\n");
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].subsystem, "sched");
        assert_eq!(ev[1].event, "sys_enter_read");
    }
}
