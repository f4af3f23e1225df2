//! `zsched`: the zone's pid 1, as SmartOS's zsched and tini are. It runs
//! the zone's init command as its one child, passes it every signal the
//! zone receives (`vmadm stop`'s SIGTERM among them), reaps whatever
//! orphans end up on it — so an init that never waits (`sleep`) cannot
//! fill the zone's `max_lwps` with zombies — and exits as the command
//! did, taking the zone down with it.
//!
//! It holds no capability, cannot be traced (not dumpable), and its
//! seccomp filter allows only the few calls it makes.

use crate::privileges::Privileges;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};

/// What pid 1 reports its command's end as: an exit code, or 128 plus
/// the signal that killed it (as a shell does).
fn status_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

fn report(err: &OwnedFd, text: &str) {
    if let Ok(dup) = err.try_clone() {
        let _ = std::fs::File::from(dup).write_all(text.as_bytes());
    }
}

/// Become the zone's pid 1: start `command` under `privileges`, drop
/// to `own` (no capabilities), and supervise. `err` reports a failure to
/// start to the supervisor (the exec closes the command's copy; ours is
/// closed once we are set up). Never returns.
pub fn run(command: &[CString], privileges: &Privileges, own: &Privileges, err: OwnedFd) -> ! {
    // Nothing of the supervisor's stays open in the zone (its ready pipe,
    // its log, the host's cgroup files): only stdio and `err`.
    close_all_but(err.as_raw_fd());
    // Every signal blocked before the fork, so none is lost before the
    // signalfd reads them; the command unblocks its own.
    let all = SigSet::all();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None);
    // SAFETY: this process is single-threaded; the child execs or exits.
    let child = match unsafe { fork() } {
        Ok(ForkResult::Child) => start_command(command, privileges, &err),
        Ok(ForkResult::Parent { child }) => {
            // The taps are the VMM's alone.
            // SAFETY: close_range on descriptors this process owns.
            unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    TAP_FDS as u32,
                    (TAP_FDS_END - 1) as u32,
                    0u32,
                );
            }
            child
        }
        Err(e) => {
            report(&err, &format!("zsched: fork: {}", e.desc()));
            // SAFETY: leaving pid 1.
            unsafe { libc::_exit(1) }
        }
    };
    let name = c"zsched";
    // SAFETY: prctl with integer arguments and a NUL-terminated name.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0);
        // Not dumpable: the zone's root cannot ptrace or read the memory
        // of the process that watches it.
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    if let Err(e) = own.enter() {
        report(&err, &format!("zsched: dropping privileges: {e}"));
        let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
        // SAFETY: leaving pid 1.
        unsafe { libc::_exit(1) }
    }
    drop(err);
    let code = supervise(child, all);
    // SAFETY: leaving pid 1; the kernel ends the rest of the zone.
    unsafe { libc::_exit(code) }
}

/// Where a `kvm` zone's VMM finds its taps: descriptors `TAP_FDS`,
/// `TAP_FDS + 1`… (at most 8, a VM's most devices), which the supervisor
/// opened on the host's etherstub and zsched passes to the VMM alone.
pub const TAP_FDS: i32 = 100;
const TAP_FDS_END: i32 = TAP_FDS + 8;

/// Close every descriptor above stdio but `keep` and the taps' range.
fn close_all_but(keep: i32) {
    let close = |lo: i32, hi: u32| {
        if lo >= 0 && lo as u32 <= hi {
            // SAFETY: close_range on descriptors this process owns.
            unsafe {
                libc::syscall(libc::SYS_close_range, lo as u32, hi, 0u32);
            }
        }
    };
    let mut kept = [(keep, keep), (TAP_FDS, TAP_FDS_END - 1)];
    kept.sort_unstable();
    let mut from = 3;
    for (lo, hi) in kept {
        if lo > from {
            close(from, (lo - 1) as u32);
        }
        from = from.max(hi + 1);
    }
    close(from, u32::MAX);
}

/// In the command's process: a session of its own, signals as a new
/// process has them, the zone's privileges, then exec.
fn start_command(command: &[CString], privileges: &Privileges, err: &OwnedFd) -> ! {
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    let _ = nix::unistd::setsid();
    if let Err(e) = privileges.enter() {
        report(err, &format!("taking up the zone's privileges: {e}"));
        // SAFETY: leaving the child.
        unsafe { libc::_exit(126) }
    }
    let e = nix::unistd::execv(&command[0], command);
    report(
        err,
        &format!(
            "exec {}: {}",
            command[0].to_string_lossy(),
            e.map_or_else(|e| e.desc(), |_| "")
        ),
    );
    // SAFETY: leaving the child.
    unsafe { libc::_exit(127) }
}

/// Pass signals to `child` and reap every process that ends on us until
/// `child` does; its status.
fn supervise(child: Pid, signals: SigSet) -> i32 {
    let fd = match SignalFd::with_flags(&signals, SfdFlags::SFD_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("zsched: signalfd: {}", e.desc());
            let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
            return reap_until(child, true).unwrap_or(1);
        }
    };
    loop {
        // A SIGCHLD may stand for several children: reap all there are.
        if let Some(code) = reap_until(child, false) {
            return code;
        }
        match fd.read_signal() {
            Ok(Some(info)) => {
                let sig = info.ssi_signo as i32;
                if sig != libc::SIGCHLD {
                    if let Ok(s) = Signal::try_from(sig) {
                        let _ = nix::sys::signal::kill(child, s);
                    }
                }
            }
            Ok(None) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                eprintln!("zsched: reading signals: {}", e.desc());
                return reap_until(child, true).unwrap_or(1);
            }
        }
    }
}

/// Reap ended children; once `child` is among them, its status code.
/// With `block`, wait for `child`.
fn reap_until(child: Pid, block: bool) -> Option<i32> {
    let flags = if block {
        None
    } else {
        Some(WaitPidFlag::WNOHANG)
    };
    loop {
        match waitpid(None::<Pid>, flags) {
            Ok(WaitStatus::StillAlive) => return None,
            Ok(status) => {
                if status.pid() == Some(child) {
                    if let Some(code) = status_code(status) {
                        return Some(code);
                    }
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            // No children left at all (ECHILD): the command is gone too.
            Err(_) => return if block { Some(1) } else { None },
        }
    }
}
