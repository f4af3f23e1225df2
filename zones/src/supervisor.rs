//! Booting a zone and watching it, as SmartOS's zoneadmd does.
//!
//! [`boot`] forks the zone's supervisor, a daemon in the zone's supervisor
//! cgroup, and waits for its word. The supervisor builds the zone's root
//! (see [`crate::rootfs`]) in a mount namespace of its own, then clones
//! the zone's init in one clone3(2) into new user, mount, pid, uts, ipc
//! and net namespaces and into the zone's cgroup2 group. It maps the new
//! user namespace's ids to the zone's range; init joins the zone's v1
//! groups itself, takes the zone's root id, unshares its cgroup
//! namespace, finishes the root, pivots into it and becomes `zsched`
//! ([`crate::init`]), which runs the zone's init command.
//!
//! The supervisor then relays the zone's console output (init's stdout
//! and stderr) to `zone.log` in the zone's directory, waits for init
//! through its pidfd, and when the zone stops records why (`exit.json`),
//! removes its cgroups and marks it stopped.
//!
//! Nobody writes another process's pid into a `cgroup.procs` on this path:
//! that costs an RCU grace period (see [`crate::clone`]).

use crate::cgroups::{self, SupervisorGroup, ZoneCgroups};
use crate::clone::{clone_into, Cloned};
use crate::privileges::Privileges;
use crate::process::{signal_name, ExitStatus, Pidfd, ProcessId};
use crate::rootfs::{self, EtcFiles, RootPlan};
use nix::sched::CloneFlags;
use nix::unistd::{fork, ForkResult};
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The console log in the zone's directory, and its previous part.
pub const LOG: &str = "zone.log";
/// A log part is rotated when it reaches this size: the zone's output
/// can never take more than twice it on the host's disk.
const LOG_PART: u64 = 1 << 20;
/// The zone's state, as the supervisor last wrote it.
pub const STATE: &str = "state";
/// Init's identity (`PID START`).
pub const INIT: &str = "init";
/// The init command's identity (the VMM of a `kvm` zone).
pub const COMMAND: &str = "command";
/// The supervisor's identity.
pub const SUPERVISOR: &str = "supervisor";
/// Why the zone last stopped (`exit_status`, `exit_timestamp`, `exit_reason`).
pub const EXIT: &str = "exit.json";
/// Present while `vmadm stop` stops the zone, so its end is told as one.
pub const HALTING: &str = "halting";

/// Why a zone could not boot.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// Something failed; the text says what and where.
    #[error("{0}")]
    Failed(String),
}

fn failed(what: impl Into<String>) -> BootError {
    BootError::Failed(what.into())
}

/// What a zone boots.
pub struct BootPlan {
    /// The zone's UUID.
    pub uuid: String,
    /// Its directory (records, logs).
    pub zone_dir: PathBuf,
    /// Its root filesystem.
    pub root: RootPlan,
    /// The init command.
    pub init: Vec<String>,
    /// Its cgroups, created and capped.
    pub cgroups: ZoneCgroups,
    /// The supervisor's group, created.
    pub supervisor: SupervisorGroup,
    /// What the zone's processes may do.
    pub privileges: Privileges,
    /// What zsched may do: nothing but its own few calls.
    pub zsched: Privileges,
    /// Its NICs, their nic tags resolved.
    pub nics: Vec<crate::network::NicPlan>,
    /// A `kvm` zone: its NICs are taps handed to the VMM, not vNICs in
    /// the zone's namespace.
    pub vm: bool,
}

impl BootPlan {
    /// The zone's D id (`zoneid`): its cgroup2 group's id, as the tracer
    /// reads it from a task's cgroup.
    pub fn zone_id(&self) -> u64 {
        std::fs::metadata(&self.cgroups.unified)
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m) & 0x7fff_ffff)
            .unwrap_or(0)
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), BootError> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(failed(format!("pipe: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: both fds were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn report(fd: &OwnedFd, text: &str) {
    if let Ok(dup) = fd.try_clone() {
        let _ = std::fs::File::from(dup).write_all(text.as_bytes());
    }
}

/// Boot: fork the supervisor, which boots the zone; returns init's host
/// pid once the init command runs (or the error that stopped it). The
/// supervisor outlives the caller, who must be single-threaded.
pub fn boot(plan: &BootPlan) -> Result<i32, BootError> {
    let init: Vec<CString> = plan
        .init
        .iter()
        .map(|a| {
            CString::new(a.as_str()).map_err(|_| failed("the init command contains a NUL byte"))
        })
        .collect::<Result<_, _>>()?;
    if init.is_empty() {
        return Err(failed("the init command is empty"));
    }
    let etc = EtcFiles::read();
    let (ready_r, ready_w) = pipe()?;
    // SAFETY: fork; the child only starts the supervisor and exits.
    match unsafe { fork() }.map_err(|e| failed(format!("fork: {}", e.desc())))? {
        ForkResult::Parent { child } => {
            drop(ready_w);
            let mut msg = String::new();
            let _ = std::fs::File::from(ready_r).read_to_string(&mut msg);
            let _ = nix::sys::wait::waitpid(child, None);
            match msg.strip_prefix("ok ") {
                Some(pid) => pid
                    .trim()
                    .parse()
                    .map_err(|_| failed(format!("bad ready message {msg:?}"))),
                None if msg.is_empty() => {
                    Err(failed("the zone's supervisor died before the zone booted"))
                }
                None => Err(failed(msg)),
            }
        }
        ForkResult::Child => {
            drop(ready_r);
            // A daemon holds nothing of its caller's: not its stdio (whoever
            // reads vmadm's output would wait for the zone to stop), not its
            // locks (the registry's, the zone's, any other). The ready pipe
            // becomes fd 3, everything else is closed, stdio is /dev/null.
            let ready_w = detach_fds(ready_w);
            let _ = nix::unistd::setsid();
            // The supervisor itself is cloned into its group, so that
            // whatever happens to vmadm, every host process of this zone
            // can be found there; being our child's child, init(1) reaps it.
            let group = match std::fs::File::open(&plan.supervisor.dir) {
                Ok(g) => g,
                Err(e) => {
                    report(&ready_w, &format!("{}: {e}", plan.supervisor.dir.display()));
                    // SAFETY: leaving the forked child.
                    unsafe { libc::_exit(1) }
                }
            };
            // SAFETY: this forked child is single-threaded.
            match unsafe { clone_into(CloneFlags::empty(), Some(group.as_fd()), false) } {
                Ok((Cloned::Parent(_), _)) => unsafe { libc::_exit(0) },
                Ok((Cloned::Child, _)) => {}
                Err(e) => {
                    report(&ready_w, &format!("starting the supervisor: {}", e.desc()));
                    // SAFETY: leaving the forked child.
                    unsafe { libc::_exit(1) }
                }
            }
            drop(group);
            let status = supervise(plan, &init, &etc, ready_w);
            // SAFETY: leaving the supervisor process.
            unsafe { libc::_exit(status) }
        }
    }
}

/// Keep only `keep` (as fd 3) and stdio on /dev/null; close the rest.
fn detach_fds(keep: OwnedFd) -> OwnedFd {
    use std::os::fd::IntoRawFd;
    let raw = keep.into_raw_fd();
    // SAFETY: fd juggling in the just-forked, single-threaded child: dup2
    // onto 3, close every other descriptor, reopen stdio on /dev/null.
    unsafe {
        if raw != 3 {
            libc::dup2(raw, 3);
            libc::close(raw);
        }
        // dup2 drops close-on-exec: the zone must not inherit it (vmadm
        // waits for the pipe to close).
        libc::fcntl(3, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
        if let Ok(null) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            for fd in 0..3 {
                libc::dup2(null.as_raw_fd(), fd);
            }
        }
        OwnedFd::from_raw_fd(3)
    }
}

/// The zone's console log: written by the supervisor alone, rotated so
/// that it never holds more than two parts.
struct Log {
    path: PathBuf,
    file: Option<std::fs::File>,
    size: u64,
}

impl Log {
    fn open(zone_dir: &Path) -> Log {
        let path = zone_dir.join(LOG);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .ok();
        let size = file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        Log { path, file, size }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.size + bytes.len() as u64 > LOG_PART && self.size > 0 {
            let mut old = self.path.clone().into_os_string();
            old.push(".0");
            let _ = std::fs::rename(&self.path, &old);
            self.file = std::fs::File::create(&self.path).ok();
            self.size = 0;
        }
        if let Some(f) = &mut self.file {
            if f.write_all(bytes).is_ok() {
                self.size += bytes.len() as u64;
            }
        }
    }

    /// A line from the supervisor itself.
    fn note(&mut self, text: &str) {
        self.write(format!("lumen: {text}\n").as_bytes());
    }
}

/// The supervisor: start init, tell the caller, relay its output, wait
/// for it, record how it ended.
fn supervise(plan: &BootPlan, init: &[CString], etc: &EtcFiles, ready: OwnedFd) -> i32 {
    let mut log = Log::open(&plan.zone_dir);
    if let Some(me) = ProcessId::of(std::process::id() as i32) {
        let _ = std::fs::write(plan.zone_dir.join(SUPERVISOR), me.record());
    }
    let started = match start_init(plan, init, etc) {
        Ok(s) => s,
        Err(e) => {
            // Init is gone (start_init reaped it), so its groups can go
            // before the caller hears: it then finds nothing left.
            log.note(&format!("cannot boot: {e}"));
            let _ = plan.cgroups.remove();
            let _ = std::fs::remove_file(plan.zone_dir.join(SUPERVISOR));
            report(&ready, &e.to_string());
            leave(&plan.supervisor);
            return 1;
        }
    };
    let Started {
        pidfd,
        id: init_id,
        log_r,
        netns_cookie,
    } = started;
    // Runtime state, not fsync'd: after a crash no zone runs, whatever
    // these files say; the manifest is what must survive.
    let _ = std::fs::remove_file(plan.zone_dir.join(HALTING));
    let _ = std::fs::write(plan.zone_dir.join(INIT), init_id.record());
    let command = first_child(init_id.pid).and_then(ProcessId::of);
    if let Some(command) = command {
        let _ = std::fs::write(plan.zone_dir.join(COMMAND), command.record());
    }
    let _ = std::fs::write(plan.zone_dir.join(STATE), "running\n");
    protect_zsched(init_id.pid, command.map(|c| c.pid));
    log.note(&format!("zone booted; init is pid {}", init_id.pid));
    let oom_before = plan.cgroups.oom_kills();
    report(&ready, &format!("ok {}", init_id.pid));
    drop(ready);
    // After the caller has its answer: a lazy unmount waits for an RCU
    // grace period (a millisecond or more), which no boot need wait for.
    rootfs::release(&plan.root);
    relay(&pidfd, &log_r, &mut log);
    let status = pidfd.reap();
    if let Some(c) = netns_cookie {
        let _ = net::zonemap::unregister(c);
    }
    // Its vNICs would go with its network namespace, but only once the
    // kernel gets to it: removed now, so none outlives the zone's stop.
    if !plan.nics.is_empty() {
        if let Err(e) = crate::network::teardown(&plan.uuid) {
            log.note(&format!("removing the zone's vNICs: {e}"));
        }
    }
    // Whatever the zone left (a zlogin's processes, which live in its
    // groups but may outlive its pid namespace's init for a moment).
    let _ = plan.cgroups.kill(Duration::from_secs(2));
    let reason = reason(
        status.as_ref().ok().copied(),
        plan.zone_dir.join(HALTING).exists(),
        plan.cgroups.oom_kills() > oom_before,
    );
    log.note(&format!("zone stopped: {reason}"));
    // The groups go before the zone is marked stopped: `vmadm stop` returns
    // once it reads "stopped", and a `start` right after makes the groups
    // again, which a late removal here would take from under it.
    if let Err(e) = plan.cgroups.remove() {
        log.note(&format!("removing the zone's cgroups: {e}"));
    }
    record_exit(
        &plan.zone_dir,
        status.as_ref().map_or(-1, |s| s.code()),
        &reason,
    );
    for f in [INIT, COMMAND, SUPERVISOR, HALTING] {
        let _ = std::fs::remove_file(plan.zone_dir.join(f));
    }
    // Our group goes before "stopped" too: a boot right after makes it
    // again, and must not lose it to our removal.
    leave(&plan.supervisor);
    let _ = std::fs::write(plan.zone_dir.join(STATE), "stopped\n");
    0
}

/// `oom_score_adj` of a zone's processes where zsched could not be made
/// exempt from the OOM killer: enough, in a memory cgroup's OOM, to outrank
/// zsched's few megabytes whatever the cap.
pub const ZONE_OOM_SCORE_ADJ: &str = "500";

/// Keep zsched from being the memory cap's victim: it is a copy of this
/// process, larger than most of what a zone runs, and its death ends the
/// zone. Exempt it (-1000) once it has forked the init command, which
/// keeps the default: a privileged write also sets the floor a process
/// may lower itself to, which zsched's children must not inherit. That
/// needs CAP_SYS_RESOURCE; a host that withholds it (some sandboxes do)
/// gets the other way round: the zone's processes rank above zsched
/// ([`ZONE_OOM_SCORE_ADJ`]; zlogin gives its commands the same).
fn protect_zsched(zsched: i32, command: Option<i32>) {
    if std::fs::write(format!("/proc/{zsched}/oom_score_adj"), "-1000").is_ok() {
        return;
    }
    if let Some(c) = command {
        let _ = std::fs::write(format!("/proc/{c}/oom_score_adj"), ZONE_OOM_SCORE_ADJ);
    }
}

/// The supervisor's last act: leave its group and remove it.
fn leave(group: &SupervisorGroup) {
    if group.leave().is_ok() {
        let _ = cgroups::remove_tree(&group.dir);
    }
}

/// Why the zone stopped, in words, from how its init ended.
pub fn reason(status: Option<ExitStatus>, halting: bool, oom: bool) -> String {
    let how = match status {
        None => "its init could not be waited for".to_string(),
        // zsched exits with its command's status, 128 + N for signal N.
        Some(ExitStatus::Exited(code)) if code > 128 && code < 128 + 65 => {
            format!("its init was killed by {}", signal_name(code - 128))
        }
        Some(ExitStatus::Exited(code)) => format!("its init exited with status {code}"),
        Some(ExitStatus::Signaled(sig)) => format!("the zone was killed by {}", signal_name(sig)),
    };
    if halting {
        format!("stopped by vmadm ({how})")
    } else if oom {
        format!("{how}, after the memory cap (max_physical_memory) killed processes in it")
    } else {
        how
    }
}

/// Write `exit.json` (SmartOS's `exit_status` and `exit_timestamp`, and
/// Lumen's `exit_reason`).
pub fn record_exit(zone_dir: &Path, status: i32, reason: &str) {
    let record = serde_json::json!({
        "exit_status": status,
        "exit_timestamp": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        "exit_reason": reason,
    });
    let tmp = zone_dir.join(".exit.json.new");
    if std::fs::write(&tmp, format!("{record:#}\n")).is_ok() {
        let _ = std::fs::rename(&tmp, zone_dir.join(EXIT));
    }
}

/// The first child of process `pid` (zsched's one child: the init
/// command), by its host pid.
fn first_child(pid: i32) -> Option<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Copy the zone's output to the log until init exits, then what is
/// left in the pipe (briefly: a process that kept the pipe open dies with
/// the pid namespace).
fn relay(init: &Pidfd, out: &OwnedFd, log: &mut Log) {
    let mut buf = [0u8; 8192];
    let mut open = true;
    loop {
        let mut fds = [
            libc::pollfd {
                fd: init.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: out.as_raw_fd(),
                events: if open { libc::POLLIN } else { 0 },
                revents: 0,
            },
        ];
        // SAFETY: poll on an array that lives across the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        if open && fds[1].revents != 0 {
            // SAFETY: read into a buffer that lives across the call.
            let got = unsafe { libc::read(out.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if got > 0 {
                log.write(&buf[..got as usize]);
            } else {
                open = false;
            }
        }
        if fds[0].revents != 0 {
            break;
        }
    }
    // Drain what init and its command wrote before they ended.
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    while open && std::time::Instant::now() < deadline {
        let mut pfd = libc::pollfd {
            fd: out.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll on one pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 100) } <= 0 {
            break;
        }
        // SAFETY: read into a buffer that lives across the call.
        let got = unsafe { libc::read(out.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if got <= 0 {
            break;
        }
        log.write(&buf[..got as usize]);
    }
}

/// A running init.
struct Started {
    pidfd: Pidfd,
    id: ProcessId,
    /// The read end of the zone's stdout and stderr.
    log_r: OwnedFd,
    /// Its network namespace's cookie, in the zones' table.
    netns_cookie: Option<u64>,
}

/// The namespaces init is cloned into. The cgroup namespace comes after,
/// from init itself, once it is in all of the zone's groups: a cgroup
/// namespace is rooted where its creator is, in every hierarchy.
fn clone_namespaces() -> CloneFlags {
    CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET
}

/// Build the root, clone init, map its ids, and wait until the init
/// command has exec'd. On error init has exited and been reaped.
fn start_init(plan: &BootPlan, init: &[CString], etc: &EtcFiles) -> Result<Started, BootError> {
    rootfs::private_namespace().map_err(|e| failed(e.to_string()))?;
    rootfs::prepare(&plan.root).map_err(|e| failed(e.to_string()))?;
    // Opened before the clone, so init needs no path lookups to join, and
    // a missing group is reported here. All are close-on-exec.
    let tasks = cgroups::open_tasks(&plan.cgroups.v1).map_err(|e| failed(e.to_string()))?;
    let unified = std::fs::File::open(&plan.cgroups.unified)
        .map_err(|e| failed(format!("{}: {e}", plan.cgroups.unified.display())))?;
    let (sync_r, sync_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (log_r, log_w) = pipe()?;
    // A VM's taps, opened here on the host's etherstubs and inherited by
    // init at the descriptors its VMM is told (`crate::init::TAP_FDS`…).
    let taps = if plan.vm && !plan.nics.is_empty() {
        let fds = crate::network::vm_taps(&plan.uuid, &plan.nics)
            .map_err(|e| failed(format!("the VM's NICs: {e}")))?;
        for (i, fd) in fds.iter().enumerate() {
            // SAFETY: dup2 onto a descriptor number this process does not
            // otherwise use; the copy is not close-on-exec, on purpose.
            if unsafe { libc::dup2(fd.as_raw_fd(), crate::init::TAP_FDS + i as i32) } < 0 {
                return Err(failed(format!(
                    "dup2 of the VM's tap: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
        fds.len()
    } else {
        0
    };
    // SAFETY: the supervisor is single-threaded; the child builds the zone
    // and execs, or reports and exits.
    let (cloned, pidfd) = unsafe { clone_into(clone_namespaces(), Some(unified.as_fd()), true) }
        .map_err(|e| {
            failed(format!(
                "clone3 into the zone's namespaces and cgroup2 group: {}",
                e.desc()
            ))
        })?;
    match cloned {
        Cloned::Child => {
            drop((sync_w, err_r, log_r));
            let r = enter_zone(plan, &tasks, sync_r, log_w, etc);
            if let Err(e) = r {
                report(&err_w, &e.to_string());
                // SAFETY: leaving init.
                unsafe { libc::_exit(1) };
            }
            crate::init::run(init, &plan.privileges, &plan.zsched, err_w)
        }
        Cloned::Parent(child) => {
            drop((sync_r, err_w, log_w));
            // The taps are init's (and its VMM's) now.
            for i in 0..taps as i32 {
                // SAFETY: closing the copies made above.
                unsafe { libc::close(crate::init::TAP_FDS + i) };
            }
            let pidfd = pidfd.ok_or_else(|| failed("clone3 gave no pidfd"))?;
            let id = ProcessId::of(child.as_raw());
            let mapped = plan.root.ids.write_maps(child.as_raw());
            // The zone's NICs, addresses and routes, before its init runs
            // (it is waiting for the byte below).
            let mapped = mapped.map_err(|e| e.to_string()).and_then(|()| {
                let nics: &[crate::network::NicPlan] = if plan.vm { &[] } else { &plan.nics };
                crate::network::setup(&plan.uuid, child.as_raw(), nics)
                    .map(|_| ())
                    .map_err(|e| format!("the zone's NICs: {e}"))
            });
            // Its namespace's zone, for the tracer. A host where BPF cannot
            // pin tables still boots zones; their packets read as global.
            let cookie = match mapped {
                Ok(()) => crate::network::register(&plan.uuid, plan.zone_id(), child.as_raw()).ok(),
                Err(_) => None,
            };
            // Init waits for this byte (or the pipe's end, if we fail).
            if mapped.is_ok() {
                let _ = std::fs::File::from(sync_w).write_all(b"m");
            } else {
                drop(sync_w);
            }
            // init reports an error, or its command's exec (and zsched,
            // once set up) close the pipe.
            let mut msg = String::new();
            let _ = std::fs::File::from(err_r).read_to_string(&mut msg);
            let failure = match (mapped, id) {
                (Err(e), _) => Some(e),
                (_, None) => Some("init died at once".to_string()),
                _ if !msg.is_empty() => Some(msg),
                _ => None,
            };
            if let Some(msg) = failure {
                let _ = pidfd.signal(libc::SIGKILL);
                let _ = pidfd.reap();
                if !plan.nics.is_empty() {
                    let _ = crate::network::teardown(&plan.uuid);
                }
                return Err(failed(msg));
            }
            let id = id.ok_or_else(|| failed("init died at once"))?;
            Ok(Started {
                pidfd,
                id,
                log_r,
                netns_cookie: cookie,
            })
        }
    }
}

/// In init, before zsched: wait for the id maps, join the zone's v1
/// groups, become the zone's root, take the console, finish the root.
fn enter_zone(
    plan: &BootPlan,
    tasks: &[std::fs::File],
    sync: OwnedFd,
    log: OwnedFd,
    etc: &EtcFiles,
) -> Result<(), BootError> {
    let mut byte = [0u8; 1];
    if std::fs::File::from(sync).read(&mut byte).ok() != Some(1) {
        return Err(failed("the supervisor did not map the zone's ids"));
    }
    cgroups::join_self(tasks).map_err(|e| failed(format!("joining the zone's cgroups: {e}")))?;
    rootfs::rebind(&plan.root).map_err(|e| failed(e.to_string()))?;
    become_zone_root()?;
    nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
        .map_err(|e| failed(format!("unshare(CLONE_NEWCGROUP): {}", e.desc())))?;
    // The console: stdout and stderr to the supervisor's log, stdin empty.
    let null = std::fs::File::open("dev/null").map_err(|e| failed(format!("/dev/null: {e}")))?;
    // SAFETY: dup2 onto the standard descriptors of this process.
    unsafe {
        libc::dup2(null.as_raw_fd(), 0);
        libc::dup2(log.as_raw_fd(), 1);
        libc::dup2(log.as_raw_fd(), 2);
    }
    rootfs::finish(&plan.root, etc).map_err(|e| failed(e.to_string()))
}

/// In a process that has entered a zone's user namespace: take the
/// zone's root ids (its own ids are still the host root's, which the
/// namespace does not map) and give up the host root's supplementary
/// groups, which would otherwise still count for file access on the host.
pub fn become_zone_root() -> Result<(), BootError> {
    // SAFETY: plain id calls; setgroups with an empty list.
    unsafe {
        if libc::setresgid(0, 0, 0) != 0 {
            return Err(failed(format!(
                "setresgid: {}",
                std::io::Error::last_os_error()
            )));
        }
        if libc::setgroups(0, std::ptr::null()) != 0 {
            return Err(failed(format!(
                "setgroups: {}",
                std::io::Error::last_os_error()
            )));
        }
        if libc::setresuid(0, 0, 0) != 0 {
            return Err(failed(format!(
                "setresuid: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_how_the_zone_ended() {
        assert_eq!(
            reason(Some(ExitStatus::Exited(3)), false, false),
            "its init exited with status 3"
        );
        assert_eq!(
            reason(Some(ExitStatus::Exited(137)), false, true),
            "its init was killed by SIGKILL, after the memory cap (max_physical_memory) killed processes in it"
        );
        assert_eq!(
            reason(Some(ExitStatus::Signaled(9)), true, false),
            "stopped by vmadm (the zone was killed by SIGKILL)"
        );
    }

    #[test]
    fn the_log_keeps_two_parts_at_most() {
        let dir = tempfile::tempdir().expect("dir");
        let mut log = Log::open(dir.path());
        let chunk = vec![b'x'; 300 << 10];
        for _ in 0..10 {
            log.write(&chunk);
        }
        let size = |p: &str| std::fs::metadata(dir.path().join(p)).map_or(0, |m| m.len());
        assert!(size(LOG) <= LOG_PART, "{}", size(LOG));
        assert!(size("zone.log.0") <= LOG_PART);
        assert!(size("zone.log.0") > 0);
    }
}
