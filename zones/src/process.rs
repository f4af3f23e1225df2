//! A process named so that it cannot be mistaken for a later one: its pid
//! and its start time (field 22 of `/proc/PID/stat`, in clock ticks since
//! boot), held through a pidfd. A pid written to a file outlives the
//! process; a signal to it may reach whoever got the pid next. A pidfd
//! opened, then checked against the recorded start time, then used for
//! every signal and wait, never does.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Why a recorded process could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A process record file is not `PID START`.
    #[error("bad process record {0:?}")]
    BadRecord(String),
    /// A system call failed.
    #[error("{call}: {source}")]
    Sys {
        /// The call.
        call: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

fn sys(call: &'static str) -> ProcessError {
    ProcessError::Sys {
        call,
        source: std::io::Error::last_os_error(),
    }
}

/// A process's identity: pid and start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    /// Its pid (in the host's pid namespace).
    pub pid: i32,
    /// Its start time, clock ticks after boot.
    pub start_time: u64,
}

impl ProcessId {
    /// The identity of the live process `pid`, or None if it is gone.
    pub fn of(pid: i32) -> Option<ProcessId> {
        start_time(pid).map(|start_time| ProcessId { pid, start_time })
    }

    /// The record's text (`PID START`), as [`ProcessId::parse`] reads it.
    pub fn record(&self) -> String {
        format!("{} {}\n", self.pid, self.start_time)
    }

    /// Read a record.
    pub fn parse(text: &str) -> Result<ProcessId, ProcessError> {
        let mut words = text.split_whitespace();
        match (
            words.next().and_then(|w| w.parse().ok()),
            words.next().and_then(|w| w.parse().ok()),
            words.next(),
        ) {
            (Some(pid), Some(start_time), None) if pid > 0 => Ok(ProcessId { pid, start_time }),
            _ => Err(ProcessError::BadRecord(text.to_string())),
        }
    }

    /// A pidfd on this process if it still lives: opened first, then the
    /// start time checked, so the fd cannot name a newer process that
    /// reused the pid.
    pub fn open(&self) -> Result<Option<Pidfd>, ProcessError> {
        let Some(fd) = Pidfd::open(self.pid)? else {
            return Ok(None);
        };
        if start_time(self.pid) != Some(self.start_time) {
            return Ok(None);
        }
        // The start time read above could be a newer process's if ours
        // died between the open and the read; the pidfd still names ours,
        // and says whether it lives.
        Ok(fd.alive().then_some(fd))
    }
}

/// The start time of process `pid` (`/proc/PID/stat` field 22).
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command (field 2) is in parentheses and may hold anything,
    // spaces and parentheses included: fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the command come field 3 (state) onwards: 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// A pidfd (pidfd_open(2)).
#[derive(Debug)]
pub struct Pidfd(OwnedFd);

impl Pidfd {
    /// Open a pidfd on `pid`; None if no such process.
    pub fn open(pid: i32) -> Result<Option<Pidfd>, ProcessError> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ESRCH) {
                return Ok(None);
            }
            return Err(ProcessError::Sys {
                call: "pidfd_open",
                source: e,
            });
        }
        // SAFETY: the fd was just returned to us and is owned here.
        Ok(Some(Pidfd(unsafe { OwnedFd::from_raw_fd(fd as i32) })))
    }

    /// A pidfd from clone3's `CLONE_PIDFD`.
    pub fn from_owned(fd: OwnedFd) -> Pidfd {
        Pidfd(fd)
    }

    /// Send `signal`; Ok(false) if the process has exited.
    pub fn signal(&self, signal: i32) -> Result<bool, ProcessError> {
        // SAFETY: pidfd_send_signal with a null siginfo and no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ESRCH) {
            return Ok(false);
        }
        Err(ProcessError::Sys {
            call: "pidfd_send_signal",
            source: e,
        })
    }

    /// Whether the process has not exited yet.
    pub fn alive(&self) -> bool {
        self.signal(0).unwrap_or(false)
    }

    /// Wait until it exits, for at most `timeout` (None: for ever); true
    /// if it has. Works for any process, child or not.
    pub fn wait_exit(&self, timeout: Option<std::time::Duration>) -> Result<bool, ProcessError> {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        loop {
            // SAFETY: poll on one pollfd that lives across the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc >= 0 {
                return Ok(rc > 0);
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(sys("poll"));
            }
        }
    }

    /// Reap it (it must be our child) and return how it ended.
    pub fn reap(&self) -> Result<ExitStatus, ProcessError> {
        // SAFETY: siginfo_t is plain data; waitid fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: waitid on our pidfd, writing into `info`.
            let rc = unsafe {
                libc::waitid(
                    libc::P_PIDFD,
                    self.0.as_raw_fd() as libc::id_t,
                    &mut info,
                    libc::WEXITED,
                )
            };
            if rc == 0 {
                break;
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(sys("waitid"));
            }
        }
        // SAFETY: after a successful waitid, si_status is set.
        let status = unsafe { info.si_status() };
        Ok(match info.si_code {
            libc::CLD_EXITED => ExitStatus::Exited(status),
            _ => ExitStatus::Signaled(status),
        })
    }

    /// The raw fd, for poll.
    pub fn as_raw_fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

impl std::os::fd::AsFd for Pidfd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
}

impl ExitStatus {
    /// As a shell reports it: the code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// A signal's name (`SIGKILL`), or its number.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_names_only_its_process() {
        let me = ProcessId::of(std::process::id() as i32).expect("this process");
        assert_eq!(ProcessId::parse(&me.record()).expect("parse"), me);
        assert!(me.open().expect("open").is_some());
        // The same pid with another start time is somebody else.
        let other = ProcessId {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(other.open().expect("open").is_none());
        assert!(ProcessId::parse("12").is_err());
        assert!(ProcessId::parse("x 1").is_err());
    }

    #[test]
    fn a_child_is_waited_for_and_reaped_through_its_pidfd() {
        // Reaped through the pidfd, not through `Child::wait`.
        #[allow(clippy::zombie_processes)]
        let child = std::process::Command::new("sh")
            .args(["-c", "exit 3"])
            .spawn()
            .expect("spawn");
        let fd = Pidfd::open(child.id() as i32)
            .expect("pidfd")
            .expect("alive or zombie");
        assert!(fd
            .wait_exit(Some(std::time::Duration::from_secs(5)))
            .expect("poll"));
        assert_eq!(fd.reap().expect("reap"), ExitStatus::Exited(3));
        assert!(!fd.alive());
    }
}
