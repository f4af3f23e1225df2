//! A terminal for an interactive `zlogin`: a pty from the zone's own devpts
//! (so `tty` in the zone names `/dev/pts/N` there), its slave the login
//! shell's controlling terminal, and the caller's terminal in raw mode
//! relayed to its master until the shell exits.

use nix::sys::termios::{self, SetArg, Termios};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// Why a zone's terminal could not be made or relayed.
#[derive(Debug, thiserror::Error)]
#[error("zlogin: {what}: {source}")]
pub struct PtyError {
    /// What failed.
    pub what: String,
    /// Why.
    pub source: std::io::Error,
}

fn err(what: impl Into<String>) -> PtyError {
    PtyError {
        what: what.into(),
        source: std::io::Error::last_os_error(),
    }
}

/// A pty pair: the master (for the relay) and the slave (for the shell).
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// Open a pty on the devpts whose multiplexer is `ptmx` (the zone's own,
/// reached through its init's root), sized as `like` (the caller's
/// terminal) is, its slave owned by `owner` (uid, gid on the host: the
/// zone's root and tty group) so the zone's programs may use it as their
/// own.
pub fn open(ptmx: &Path, like: i32, owner: (u32, u32)) -> Result<Pty, PtyError> {
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(ptmx)
        .map_err(|source| PtyError {
            what: format!("the zone's {}", ptmx.display()),
            source,
        })?;
    let m = master.as_raw_fd();
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int; TIOCGPTPEER returns a new fd on the
    // slave without a path lookup (Linux 4.13+).
    let slave = unsafe {
        if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) < 0 {
            return Err(err("unlocking the pty"));
        }
        let fd = libc::ioctl(
            m,
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return Err(err("opening the pty's slave"));
        }
        OwnedFd::from_raw_fd(fd)
    };
    // SAFETY: fchown of the slave we hold.
    if unsafe { libc::fchown(slave.as_raw_fd(), owner.0, owner.1) } != 0 {
        return Err(err("giving the pty to the zone"));
    }
    copy_size(like, m);
    Ok(Pty {
        master: master.into(),
        slave,
    })
}

use std::os::unix::fs::OpenOptionsExt;

/// In the shell's process, before exec: a session of its own with the
/// slave as its controlling terminal and its stdio.
pub fn become_login(slave: &OwnedFd) -> std::io::Result<()> {
    let fd = slave.as_raw_fd();
    // SAFETY: plain process and fd calls in the child, before exec.
    unsafe {
        if libc::setsid() < 0 || libc::ioctl(fd, libc::TIOCSCTTY, 0) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        for target in 0..3 {
            if libc::dup2(fd, target) < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The caller's terminal in raw mode until dropped (restored even when
/// the relay fails).
struct RawMode {
    fd: i32,
    saved: Termios,
}

impl RawMode {
    fn enter(fd: i32) -> Option<RawMode> {
        // SAFETY: the caller's stdin stays open for the relay's life.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let saved = termios::tcgetattr(borrowed).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(borrowed, SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: as in enter.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) };
        let _ = termios::tcsetattr(borrowed, SetArg::TCSANOW, &self.saved);
    }
}

/// Set by SIGWINCH: the caller's terminal changed size.
static RESIZED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_winch(_: libc::c_int) {
    RESIZED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Give the pty `to` the size of the caller's terminal `from`.
fn copy_size(from: i32, to: i32) {
    // SAFETY: winsize is plain data, copied between two open terminals.
    unsafe {
        let mut size: libc::winsize = std::mem::zeroed();
        if libc::ioctl(from, libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to, libc::TIOCSWINSZ, &size);
        }
    }
}

/// Relay the caller's terminal (stdin, stdout) and the pty master until
/// the shell side closes (the master reads EIO once every slave is shut).
/// A resize of the caller's terminal is passed on (the kernel then sends
/// the zone's shell its own SIGWINCH).
pub fn relay(master: OwnedFd) -> Result<(), PtyError> {
    let _raw = RawMode::enter(libc::STDIN_FILENO);
    let m = master.as_raw_fd();
    // SAFETY: the handler only stores to an atomic.
    unsafe { libc::signal(libc::SIGWINCH, on_winch as *const () as libc::sighandler_t) };
    let mut master = std::fs::File::from(master);
    let mut stdout = std::io::stdout().lock();
    let mut stdin_open = true;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: m,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { libc::STDIN_FILENO } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        if RESIZED.swap(false, std::sync::atomic::Ordering::SeqCst) {
            copy_size(libc::STDIN_FILENO, m);
        }
        // SAFETY: two valid pollfds for the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(PtyError {
                what: "poll".into(),
                source: e,
            });
        }
        if fds[0].revents != 0 {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => {
                    let _ = stdout.write_all(&buf[..n]);
                    let _ = stdout.flush();
                }
            }
        }
        if fds[1].revents != 0 {
            // SAFETY: reading into our buffer from stdin.
            let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                stdin_open = false;
            } else if master.write_all(&buf[..n as usize]).is_err() {
                return Ok(());
            }
        }
    }
}
