//! clone3(2): a fork whose child starts in new namespaces and inside a
//! cgroup2 group (`CLONE_INTO_CGROUP`), so nobody has to move it there
//! afterwards through `cgroup.procs`.
//!
//! Why not fork and write the pid to `cgroup.procs`: moving another
//! process takes the kernel's global `cgroup_threadgroup_rwsem` for
//! writing, which waits for an RCU grace period — 5 to 30 ms on this
//! host, most of a zone's boot. Being cloned into a group only takes that
//! lock for reading. Needs Linux 5.7.

use crate::process::Pidfd;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Start the child in the cgroup2 group `clone_args.cgroup` names (libc's
/// constant is an `int` it does not fit).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The kernel's `struct clone_args` up to `cgroup` (`CLONE_ARGS_SIZE_VER2`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Which side of the clone this is.
#[derive(Debug)]
pub enum Cloned {
    /// The caller; the child's pid.
    Parent(Pid),
    /// The child.
    Child,
}

/// Fork, the child in new namespaces `namespaces` and, when `cgroup` is a
/// cgroup2 directory, in that group from its first instruction. The child
/// is reaped with `waitpid` as a forked one (it signals `SIGCHLD`); with
/// `pidfd`, the parent also gets a pidfd on it (`CLONE_PIDFD`), so it can
/// wait for and signal exactly this child.
///
/// # Safety
/// As `fork`: in a process with other threads the child may only call
/// async-signal-safe functions before it execs or exits.
pub unsafe fn clone_into(
    namespaces: CloneFlags,
    cgroup: Option<BorrowedFd<'_>>,
    pidfd: bool,
) -> nix::Result<(Cloned, Option<Pidfd>)> {
    let mut fd: i32 = -1;
    let mut args = CloneArgs {
        flags: namespaces.bits() as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    if pidfd {
        args.flags |= libc::CLONE_PIDFD as u64;
        args.pidfd = &mut fd as *mut i32 as u64;
    }
    // SAFETY: clone3 reads `args` (its size given); without CLONE_VM or a
    // stack the child runs on a copy of this address space, as after
    // fork, and the caller has promised fork's rules.
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match r {
        -1 => Err(nix::Error::last()),
        0 => Ok((Cloned::Child, None)),
        pid => Ok((
            Cloned::Parent(Pid::from_raw(pid as i32)),
            // SAFETY: with CLONE_PIDFD the kernel stored a new fd here.
            (fd >= 0).then(|| Pidfd::from_owned(unsafe { OwnedFd::from_raw_fd(fd) })),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_clone_forks_and_is_reaped() {
        // SAFETY: the child only calls _exit.
        match unsafe { clone_into(CloneFlags::empty(), None, false) }.expect("clone3") {
            // SAFETY: leaving the child.
            (Cloned::Child, _) => unsafe { libc::_exit(7) },
            (Cloned::Parent(pid), fd) => {
                assert!(fd.is_none());
                let status = nix::sys::wait::waitpid(pid, None).expect("waitpid");
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(pid, 7));
            }
        }
    }

    #[test]
    fn a_clone_with_a_pidfd_is_reaped_through_it() {
        // SAFETY: the child only calls _exit.
        match unsafe { clone_into(CloneFlags::empty(), None, true) }.expect("clone3") {
            // SAFETY: leaving the child.
            (Cloned::Child, _) => unsafe { libc::_exit(5) },
            (Cloned::Parent(_), fd) => {
                let fd = fd.expect("a pidfd");
                assert_eq!(
                    fd.reap().expect("reap"),
                    crate::process::ExitStatus::Exited(5)
                );
            }
        }
    }
}
