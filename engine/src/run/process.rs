//! The traced process of `-c CMD` and `-p PID`: `$target`, and knowing when it ends.
//!
//! `-c` forks the command held just before `exec` (it blocks reading a
//! pipe) so that every probe is enabled before its first instruction, as
//! DTrace creates its target stopped; [`TracedProcess::release`] lets it run.
//! Both kinds watch the process through a pidfd, which becomes readable
//! when the process exits.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;

/// A traced process.
pub struct TracedProcess {
    pid: i32,
    /// Whether we forked it (and must reap it).
    child: bool,
    go: Option<OwnedFd>,
    pidfd: OwnedFd,
    /// The program a spawned command runs (its USDT probes are read from
    /// the file until it execs).
    program: Option<std::path::PathBuf>,
    /// A `-c` command held at its exit until the consumer is done with it.
    hold: Option<super::exit_hold::ExitHold>,
}

fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

impl TracedProcess {
    /// Start `command` (split on blanks, as dtrace(1) splits `-c`), held
    /// before exec until [`TracedProcess::release`].
    ///
    /// `std::process::Command` cannot do this: its `spawn` waits for the
    /// child's exec, which would wait for us. So: resolve the program and
    /// build argv first, fork, and in the child only read(2) the pipe and
    /// execve(2) — async-signal-safe calls.
    pub fn spawn(command: &str) -> io::Result<TracedProcess> {
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(prog) = words.first() else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
        };
        let path = resolve(prog).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        let program = path.clone();
        let cstr =
            |s: &str| CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL));
        let path = CString::new(path.into_os_string().into_vec())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let args: Vec<CString> = words.iter().map(|w| cstr(w)).collect::<io::Result<_>>()?;
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let env: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                let mut kv = k.into_vec();
                kv.push(b'=');
                kv.extend(v.into_vec());
                CString::new(kv).ok()
            })
            .collect();
        let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        envp.push(std::ptr::null());
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two fds into the array we own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both fds were just created and are owned here.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fork(2); the child below only calls async-signal-safe
        // functions (close, read, execve, _exit) on data prepared before.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: in the child: wait for the go signal (EOF), then exec.
            unsafe {
                libc::close(wr.as_raw_fd());
                let mut b = 0u8;
                libc::read(rd.as_raw_fd(), &mut b as *mut u8 as *mut libc::c_void, 1);
                libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        drop(rd);
        let pidfd = pidfd_open(pid)?;
        let hold = super::exit_hold::ExitHold::seize(pid);
        Ok(TracedProcess {
            pid,
            child: true,
            go: Some(wr),
            pidfd,
            program: Some(program),
            hold,
        })
    }

    /// Watch an existing process.
    pub fn attach(pid: i32) -> io::Result<TracedProcess> {
        let pidfd = pidfd_open(pid)?;
        Ok(TracedProcess {
            pid,
            child: false,
            go: None,
            pidfd,
            program: None,
            hold: None,
        })
    }

    /// Kill a command we spawned and have not released (a listing that
    /// only needed its program); `-p` processes are left alone.
    pub fn kill(&mut self) {
        if self.child && self.go.is_some() {
            // SAFETY: kill(2) on our own unreleased child.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            match self.hold.take() {
                // The holder lets it go and reaps it.
                Some(mut h) => h.release(),
                // SAFETY: reaping our own child.
                None => unsafe {
                    libc::waitpid(self.pid, std::ptr::null_mut(), 0);
                },
            }
            self.go = None;
        }
    }

    /// Let a `-c` command held at its exit finish (after the consumer has
    /// read its records and named its addresses).
    pub fn finish(&mut self) {
        if let Some(mut h) = self.hold.take() {
            h.release();
        }
    }

    /// The program a spawned command will run; `None` for `-p` processes.
    pub fn program(&self) -> Option<&std::path::Path> {
        self.program.as_deref()
    }

    /// The process ID (`$target`).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Let a `-c` command run (closing the pipe ends its wait).
    pub fn release(&mut self) {
        self.go = None;
    }

    /// Whether a `-c` command is held at its exit ([`Self::finish`] lets it go).
    pub fn held(&self) -> bool {
        self.hold.as_ref().is_some_and(|h| h.at_exit())
    }

    /// Whether the process has exited (reaping a `-c` child).
    pub fn exited(&mut self) -> bool {
        if let Some(h) = &self.hold {
            return h.gone();
        }
        let mut pfd = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n > 0 {
            if self.child {
                let mut status = 0;
                // SAFETY: reaping our own child; status is a valid out-pointer.
                unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
            }
            return true;
        }
        false
    }
}

/// Find a program as execvp(3) would: a path with a slash as is, else the
/// first executable `PATH` entry.
fn resolve(prog: &str) -> Option<std::path::PathBuf> {
    let runnable = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if prog.contains('/') {
        let p = std::path::PathBuf::from(prog);
        return runnable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

impl Drop for TracedProcess {
    fn drop(&mut self) {
        // A `-c` child never released (an error before tracing): let it go.
        self.go = None;
    }
}
