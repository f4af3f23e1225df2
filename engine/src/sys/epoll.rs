//! `epoll(7)`: sleeping until a ring buffer map has records.

use super::{check_fault, fd_result, unit_result, SysError};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// An epoll instance watching fds for readability.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> Result<Epoll, SysError> {
        let call = "epoll_create1";
        check_fault(call)?;
        // SAFETY: no pointers; the flag is valid.
        let ret = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        Ok(Epoll {
            fd: fd_result(call, ret as libc::c_long)?,
        })
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)` for `EPOLLIN` on `fd`, reported with `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, token: u64) -> Result<(), SysError> {
        let call = "epoll_ctl";
        check_fault(call)?;
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: both fds are open and `event` is a live epoll_event the
        // kernel only reads during the call.
        let ret = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        unit_result(call, ret as libc::c_long)
    }

    /// `epoll_wait` up to `timeout_ms` (-1: forever): how many fds are ready.
    /// An interrupted wait (`EINTR`) counts as 0 ready.
    pub fn wait(&self, timeout_ms: i32) -> Result<usize, SysError> {
        let call = "epoll_wait";
        check_fault(call)?;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 8];
        // SAFETY: `events` is a live array of the length passed, which the
        // kernel fills during the call.
        let ret = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout_ms,
            )
        };
        if ret < 0 {
            let e = SysError::last(call);
            return if e.raw_errno() == libc::EINTR {
                Ok(0)
            } else {
                Err(e)
            };
        }
        Ok(ret as usize)
    }
}
