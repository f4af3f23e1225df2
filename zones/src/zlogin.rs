//! `zlogin`: run a command inside a running zone, under everything the
//! zone's own processes are under: its user namespace (as the zone's
//! root, never the host's), its other namespaces, its cgroups, its
//! capability bounding set, `no_new_privs` and seccomp policy.
//!
//! The `zlogin` process itself stays on the host, in the host's cgroups:
//! it only relays the terminal and waits. Its child is cloned into the
//! zone's cgroup2 group and pid namespace, joins the zone's v1 groups and
//! enters the rest. So a zone that fills its memory cap (its `/tmp`, say)
//! has its own processes killed, never the relay.

use crate::cgroups::{self, ZoneCgroups};
use crate::clone::{clone_into, Cloned};
use crate::ids::IdRange;
use crate::privileges::Privileges;
use crate::process::ProcessId;
use nix::sched::{setns, CloneFlags};
use std::ffi::CString;
use std::os::fd::AsFd;

/// The zone's `tty` group inside (Debian's), given the login's pty.
const TTY_GID: u32 = 5;

/// Why a login failed before its command ran.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The zone's init is gone.
    #[error("the zone is not running (its init has exited)")]
    NotRunning,
    /// The command cannot be passed to exec.
    #[error("zlogin: {0}")]
    Command(&'static str),
    /// A step failed.
    #[error("zlogin: {what}: {why}")]
    Step {
        /// What.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// The terminal failed.
    #[error(transparent)]
    Pty(#[from] crate::pty::PtyError),
}

fn step(what: &'static str) -> impl FnOnce(String) -> LoginError {
    move |why| LoginError::Step { what, why }
}

/// The zone a login enters.
pub struct Target {
    /// Its init (zsched).
    pub init: ProcessId,
    /// Its groups.
    pub cgroups: ZoneCgroups,
    /// Its ids.
    pub ids: IdRange,
    /// What its processes may do.
    pub privileges: Privileges,
}

/// Run `command` in zone `target`, on a pty of the zone's own with
/// `terminal`; the command's exit status. The caller must be
/// single-threaded (see [`cgroups::join_self`]).
pub fn zlogin(target: &Target, command: &[String], terminal: bool) -> Result<i32, LoginError> {
    let args: Vec<CString> = command
        .iter()
        .map(|a| {
            CString::new(a.as_str())
                .map_err(|_| LoginError::Command("the command contains a NUL byte"))
        })
        .collect::<Result<_, _>>()?;
    if args.is_empty() {
        return Err(LoginError::Command("no command"));
    }
    let init = target
        .init
        .open()
        .map_err(|e| step("finding the zone's init")(e.to_string()))?;
    let init = init.ok_or(LoginError::NotRunning)?;
    let tasks = cgroups::open_tasks(&target.cgroups.v1)
        .map_err(|e| step("opening the zone's cgroups")(e.to_string()))?;
    let unified = std::fs::File::open(&target.cgroups.unified)
        .map_err(|e| step("opening the zone's cgroup2 group")(e.to_string()))?;
    // An interactive login gets a terminal of the zone's own, as zlogin's
    // does on SmartOS: from the zone's devpts, owned by its root.
    let pty = if terminal {
        let ptmx = format!("/proc/{}/root/dev/pts/ptmx", target.init.pid);
        Some(crate::pty::open(
            std::path::Path::new(&ptmx),
            libc::STDIN_FILENO,
            (target.ids.host_id(0), target.ids.host_id(TTY_GID)),
        )?)
    } else {
        None
    };
    // Where zsched could not be exempt from the OOM killer, the zone's
    // processes outrank it (see `supervisor::protect_zsched`); ours too.
    let oom_adj = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", target.init.pid))
        .ok()
        .filter(|a| a.trim() != "-1000")
        .map(|_| crate::supervisor::ZONE_OOM_SCORE_ADJ);
    // Our children start in the zone's pid namespace; we stay where we are.
    setns(init.as_fd(), CloneFlags::CLONE_NEWPID)
        .map_err(|e| step("entering the zone's pid namespace")(e.desc().into()))?;
    // SAFETY: the caller is single-threaded; the child enters the zone and
    // execs the command, or reports and exits.
    let (cloned, child) =
        unsafe { clone_into(CloneFlags::empty(), Some(unified.as_fd()), true) }
            .map_err(|e| step("clone3 into the zone's cgroup2 group")(e.desc().into()))?;
    match cloned {
        Cloned::Child => {
            let entered = (|| -> Result<(), String> {
                if let Some(adj) = oom_adj {
                    let _ = std::fs::write("/proc/self/oom_score_adj", adj);
                }
                cgroups::join_self(&tasks)
                    .map_err(|e| format!("joining the zone's cgroups: {e}"))?;
                setns(
                    init.as_fd(),
                    CloneFlags::CLONE_NEWUSER
                        | CloneFlags::CLONE_NEWNS
                        | CloneFlags::CLONE_NEWUTS
                        | CloneFlags::CLONE_NEWIPC
                        | CloneFlags::CLONE_NEWNET
                        | CloneFlags::CLONE_NEWCGROUP,
                )
                .map_err(|e| format!("entering the zone's namespaces: {}", e.desc()))?;
                crate::supervisor::become_zone_root().map_err(|e| e.to_string())?;
                let _ = nix::unistd::chdir("/");
                // The relay's SIGWINCH handler is ours, not the command's.
                // SAFETY: resetting a handler to its default.
                unsafe { libc::signal(libc::SIGWINCH, libc::SIG_DFL) };
                if let Some(p) = &pty {
                    crate::pty::become_login(&p.slave)
                        .map_err(|e| format!("the zone's terminal: {e}"))?;
                }
                target
                    .privileges
                    .enter()
                    .map_err(|e| format!("taking up the zone's privileges: {e}"))
            })();
            if let Err(e) = entered {
                eprintln!("zlogin: {e}");
                // SAFETY: leaving the child.
                unsafe { libc::_exit(126) }
            }
            // A bare name is looked up in PATH, inside the zone.
            let e = nix::unistd::execvp(&args[0], &args);
            eprintln!(
                "zlogin: exec {}: {}",
                command[0],
                e.map_or_else(|e| e.desc(), |_| "")
            );
            // SAFETY: leaving the child.
            unsafe { libc::_exit(127) }
        }
        Cloned::Parent(_) => {
            let child = child.ok_or_else(|| step("clone3")("no pidfd".into()))?;
            if let Some(p) = pty {
                // The shell holds the slave; ours must close, or the
                // master never sees the shell's side shut.
                drop(p.slave);
                crate::pty::relay(p.master)?;
            }
            child
                .reap()
                .map(|s| s.code())
                .map_err(|e| step("waiting for the command")(e.to_string()))
        }
    }
}
