//! Holding a `-c` command at its exit: a thread traces the child with
//! `PTRACE_SEIZE` and `PTRACE_O_TRACEEXIT`, passes every signal straight
//! back to it, and when the child stops on its way out — its memory still
//! mapped — tells the consumer, then keeps it there until the consumer has
//! read its last records and named their user addresses (a process that
//! has gone cannot be symbolized). DTrace holds its `-c` process through
//! libproc for the same reason.
//!
//! Only the thread that seized the child may trace it, so the thread does
//! everything: seize, wait, continue, detach and reap.

use std::sync::{Arc, Condvar, Mutex};

/// Where the held child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Running (or not yet seized).
    Running,
    /// Stopped at exit, waiting for [`ExitHold::release`].
    AtExit,
    /// Gone and reaped.
    Exited,
}

struct Shared {
    state: Mutex<(State, bool)>,
    changed: Condvar,
}

/// The tracer thread's handle.
pub struct ExitHold {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

const PTRACE_EVENT_EXIT: i32 = 6;

impl ExitHold {
    /// Seize `pid` (our child, still before its exec) from a new thread;
    /// `None` if the kernel refuses (the command then runs untraced, and
    /// its exit is seen when it is already gone).
    pub fn seize(pid: i32) -> Option<ExitHold> {
        let shared = Arc::new(Shared {
            state: Mutex::new((State::Running, false)),
            changed: Condvar::new(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("lumen-hold-{pid}"))
            .spawn(move || {
                let opts = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL;
                // SAFETY: PTRACE_SEIZE of our own child with option flags;
                // no memory is passed.
                let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, opts as libc::c_ulong) };
                let _ = tx.send(r == 0);
                if r == 0 {
                    trace(pid, &s);
                }
            })
            .ok()?;
        if rx.recv().unwrap_or(false) {
            Some(ExitHold {
                shared,
                thread: Some(thread),
            })
        } else {
            let _ = thread.join();
            None
        }
    }

    /// Whether the child is stopped at its exit, waiting for release.
    pub fn at_exit(&self) -> bool {
        let st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        st.0 == State::AtExit
    }

    /// Whether the child has exited and been reaped.
    pub fn gone(&self) -> bool {
        let st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        st.0 == State::Exited
    }

    /// Let the child finish exiting; waits until it has been reaped.
    pub fn release(&mut self) {
        {
            let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
            st.1 = true;
            self.shared.changed.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ExitHold {
    fn drop(&mut self) {
        self.release();
    }
}

fn set(shared: &Shared, state: State) {
    let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    st.0 = state;
    shared.changed.notify_all();
}

fn released(shared: &Shared) -> bool {
    shared.state.lock().unwrap_or_else(|p| p.into_inner()).1
}

/// The tracer loop: pass signals on, hold the exit, reap. Polls, so that a
/// release while the child still runs (the run ended by `exit()` or a
/// signal) can detach it and let it carry on untraced.
fn trace(pid: i32, shared: &Shared) {
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own traced child; status is an out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | libc::WNOHANG) };
        if r == 0 {
            if released(shared) {
                // Stop it to detach it; it then runs on by itself.
                // SAFETY: interrupting and detaching our tracee; no memory.
                unsafe {
                    libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0);
                    libc::waitpid(pid, &mut status, libc::__WALL);
                    if libc::WIFSTOPPED(status) {
                        libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0);
                    }
                }
                set(shared, State::Exited);
                return;
            }
            // A signal for the child waits at most this long.
            std::thread::sleep(std::time::Duration::from_millis(2));
            continue;
        }
        if r < 0 {
            set(shared, State::Exited);
            return;
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            set(shared, State::Exited);
            return;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let event = (status >> 16) & 0xff;
        let sig = libc::WSTOPSIG(status);
        if event == PTRACE_EVENT_EXIT {
            set(shared, State::AtExit);
            // Hold until released (the consumer drained and symbolized),
            // then let it go and reap it.
            let st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            let st = shared
                .changed
                .wait_while(st, |s| !s.1)
                .unwrap_or_else(|p| p.into_inner());
            drop(st);
            // SAFETY: detaching our tracee; no memory is passed.
            unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0) };
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            set(shared, State::Exited);
            return;
        }
        // A signal for the child (event 0), or a group-stop or other event:
        // continue it at once, with the signal it was to get.
        let deliver = if event == 0 { sig } else { 0 };
        // SAFETY: continuing our tracee with a signal number; no memory.
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, deliver as libc::c_ulong) };
    }
}
