//! A running tracer (Lumen or bpftrace) for the benchmark: stdout lines arrive timestamped on a
//! channel, stderr is collected; dropping it kills the process. Also the bounded waits and the
//! counts of SIGINTs a tracer needed twice, which the report prints.

use super::{Result, Tools};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const RESEND_AFTER: Duration = Duration::from_secs(3);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// How many times each tool ([`Tool::index`]) needed a second SIGINT, and how many times it ran.
pub(crate) static LOST_SIGINTS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
pub(crate) static STARTS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tool {
    Lumen,
    Bpftrace,
}

impl Tool {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tool::Lumen => "lumen",
            Tool::Bpftrace => "bpftrace",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

pub(crate) struct Tracer {
    tool: Tool,
    child: Option<Child>,
    started: Instant,
    lines: Receiver<(Instant, String)>,
    stdout_seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

pub(crate) struct Stopped {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) status: Option<ExitStatus>,
}

impl Tracer {
    pub(crate) fn spawn(tools: &Tools, tool: Tool, script: &str) -> Result<Tracer> {
        let mut cmd = match tool {
            Tool::Lumen => {
                let mut c = Command::new(&tools.lumen);
                c.args(["dtrace", "-q", "-n", script]);
                c
            }
            Tool::Bpftrace => {
                let mut c = Command::new(&tools.bpftrace);
                c.args(["-e", script]);
                c
            }
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        STARTS[tool.index()].fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", tool.name()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let err = thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        Ok(Tracer {
            tool,
            child: Some(child),
            started,
            lines: rx,
            stdout_seen: Vec::new(),
            stderr: Some(err),
        })
    }

    /// Waits for the `ready` line; returns the time from spawn to its arrival.
    pub(crate) fn wait_ready(&mut self) -> Result<Duration> {
        let deadline = self.started + READY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    let ready = line.trim() == "ready";
                    self.stdout_seen.push(line);
                    if ready {
                        return Ok(at - self.started);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let out = self.stop();
                    return Err(format!(
                        "{} did not print `ready` within {:?}\nstdout:\n{}\nstderr:\n{}",
                        self.tool.name(),
                        READY_TIMEOUT,
                        out.stdout,
                        out.stderr
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let out = self.stop();
                    return Err(format!(
                        "{} exited before printing `ready` ({})\nstdout:\n{}\nstderr:\n{}",
                        self.tool.name(),
                        out.status.map_or("?".into(), |s| s.to_string()),
                        out.stdout,
                        out.stderr
                    ));
                }
            }
        }
    }

    /// SIGINT, wait (bounded), collect all output. A tracer still running [`RESEND_AFTER`] after
    /// the SIGINT gets a second one (and a warning: the first was lost); one still running
    /// [`STOP_TIMEOUT`] later is killed.
    pub(crate) fn stop(&mut self) -> Stopped {
        let mut status = None;
        if let Some(mut child) = self.child.take() {
            let pid = child.id() as libc::pid_t;
            // SAFETY: signalling our own, not yet reaped, child.
            unsafe { libc::kill(pid, libc::SIGINT) };
            status = wait_bounded(&mut child, RESEND_AFTER);
            if status.is_none() {
                LOST_SIGINTS[self.tool.index()].fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "  warning: {} (pid {pid}) still running {RESEND_AFTER:?} after SIGINT; sending a second SIGINT",
                    self.tool.name()
                );
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGINT) };
                status = wait_bounded(&mut child, STOP_TIMEOUT);
            }
            if status.is_none() {
                eprintln!(
                    "  warning: {} did not exit within {STOP_TIMEOUT:?} of a second SIGINT; killing it",
                    self.tool.name()
                );
                let _ = child.kill();
                status = child.wait().ok();
            }
        }
        // The child is gone, so the reader thread sees EOF and closes the channel.
        while let Ok((_, line)) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout_seen.push(line);
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let mut stdout = self.stdout_seen.join("\n");
        stdout.push('\n');
        Stopped {
            stdout,
            stderr,
            status,
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => return None,
        }
    }
}
