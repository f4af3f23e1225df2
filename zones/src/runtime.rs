//! Booting a zone: a supervisor process (as SmartOS's zoneadmd) forks the
//! zone's init into new pid, mount, uts, ipc, net and cgroup namespaces,
//! inside the zone's cgroups; init builds the zone's root — the host's
//! system directories bound read-only as a sparse zone's, a private `/etc`
//! with the zone's hostname, `/proc`, a minimal `/dev`, a private `/tmp` —
//! pivots into it and runs the zone's init command. The supervisor waits
//! for init, then marks the zone stopped and removes its cgroups.
//!
//! `zlogin` enters those namespaces (`setns`) and runs a command there.

use crate::registry::{Registry, RegistryError, ZoneState};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::{chdir, execv, fork, pivot_root, sethostname, ForkResult, Pid};
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Host directories a zone sees read-only, as a SmartOS sparse zone does.
const SYSTEM_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Device nodes bound into the zone's `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];
/// Host `/etc` files copied into the zone's private `/etc`.
const ETC_FILES: &[&str] = &["passwd", "group", "nsswitch.conf", "localtime"];

fn err(what: impl Into<String>) -> RegistryError {
    RegistryError::Boot(what.into())
}

fn sys(what: &str) -> impl FnOnce(nix::Error) -> RegistryError + '_ {
    move |e| err(format!("{what}: {}", e.desc()))
}

/// Build the zone's root under `root` and pivot into it. Runs in init,
/// in the new namespaces.
fn enter_root(root: &Path, hostname: &str) -> Result<(), RegistryError> {
    // Nothing we mount propagates back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(sys("making / private"))?;
    std::fs::create_dir_all(root).map_err(|e| err(format!("{}: {e}", root.display())))?;
    mount(
        Some(root),
        root,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(sys("binding the zone root"))?;
    for d in SYSTEM_DIRS {
        let host = Path::new("/").join(d);
        let inside = root.join(d);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            // Merged /usr: /bin -> usr/bin and so on, as on the host.
            let target = std::fs::read_link(&host).map_err(|e| err(e.to_string()))?;
            let _ = std::fs::remove_file(&inside);
            std::os::unix::fs::symlink(&target, &inside).map_err(|e| err(e.to_string()))?;
            continue;
        }
        std::fs::create_dir_all(&inside).map_err(|e| err(e.to_string()))?;
        mount(
            Some(&host),
            &inside,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(sys("binding a system directory"))?;
        // Read-only takes a second mount (a bind ignores MS_RDONLY).
        mount(
            None::<&str>,
            &inside,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(sys("making a system directory read-only"))?;
    }
    // A private /etc: the zone's own hostname and hosts, the host's users.
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc).map_err(|e| err(e.to_string()))?;
    for f in ETC_FILES {
        let _ = std::fs::copy(Path::new("/etc").join(f), etc.join(f));
    }
    std::fs::write(etc.join("hostname"), format!("{hostname}\n"))
        .map_err(|e| err(e.to_string()))?;
    std::fs::write(
        etc.join("hosts"),
        format!("127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost\n"),
    )
    .map_err(|e| err(e.to_string()))?;
    for d in ["proc", "dev", "tmp", "root", "run", "var/tmp", "home"] {
        std::fs::create_dir_all(root.join(d)).map_err(|e| err(e.to_string()))?;
    }
    let tmpfs = |at: &Path, opts: &str| {
        mount(
            Some("tmpfs"),
            at,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(opts),
        )
    };
    tmpfs(&root.join("tmp"), "mode=1777").map_err(sys("mounting /tmp"))?;
    tmpfs(&root.join("run"), "mode=755").map_err(sys("mounting /run"))?;
    // /dev: a tmpfs with the host's harmless devices bound in, and a
    // private devpts for ptys.
    let dev = root.join("dev");
    mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID,
        Some("mode=755"),
    )
    .map_err(sys("mounting /dev"))?;
    for d in DEVICES {
        let node = dev.join(d);
        std::fs::write(&node, b"").map_err(|e| err(e.to_string()))?;
        mount(
            Some(&Path::new("/dev").join(d)),
            &node,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(sys("binding a device"))?;
    }
    std::fs::create_dir_all(dev.join("pts")).map_err(|e| err(e.to_string()))?;
    mount(
        Some("devpts"),
        &dev.join("pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=620"),
    )
    .map_err(sys("mounting /dev/pts"))?;
    let _ = std::os::unix::fs::symlink("pts/ptmx", dev.join("ptmx"));
    // Pivot: the zone root becomes /, the host's is detached.
    chdir(root).map_err(sys("entering the zone root"))?;
    std::fs::create_dir_all(root.join(".oldroot")).map_err(|e| err(e.to_string()))?;
    pivot_root(".", ".oldroot").map_err(sys("pivot_root"))?;
    chdir("/").map_err(sys("chdir /"))?;
    umount2("/.oldroot", MntFlags::MNT_DETACH).map_err(sys("detaching the host root"))?;
    let _ = std::fs::remove_dir("/.oldroot");
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(sys("mounting /proc"))?;
    sethostname(hostname).map_err(sys("setting the hostname"))?;
    Ok(())
}

/// The namespaces a zone gets.
fn zone_namespaces() -> CloneFlags {
    CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWCGROUP
}

fn pipe() -> Result<(OwnedFd, OwnedFd), RegistryError> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new fds into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(err(format!("pipe: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: both fds were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// What a zone boots: root directory, hostname, init command, cgroups.
pub struct BootPlan {
    /// Zone root directory on the host.
    pub root: PathBuf,
    /// Hostname.
    pub hostname: String,
    /// Init command.
    pub init: Vec<String>,
    /// cgroup directories to put init in (`cgroup.procs` in each).
    pub cgroups: Vec<PathBuf>,
    /// Where the supervisor records init's pid and the zone's state.
    pub zone_dir: PathBuf,
}

/// Boot: fork the supervisor, which forks init; returns once init runs
/// the command (or with init's error). The supervisor outlives the caller.
pub fn boot(plan: &BootPlan) -> Result<i32, RegistryError> {
    let (ready_r, ready_w) = pipe()?;
    let init: Vec<CString> = plan
        .init
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| err("the init command contains a NUL byte")))
        .collect::<Result<_, _>>()?;
    // SAFETY: fork; the child only runs the supervisor and then exits.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Parent { child } => {
            drop(ready_w);
            let mut msg = String::new();
            let _ = std::fs::File::from(ready_r).read_to_string(&mut msg);
            // The supervisor itself is reaped by init(1) once it detaches.
            let _ = nix::sys::wait::waitpid(child, None);
            match msg.strip_prefix("ok ") {
                Some(pid) => pid
                    .trim()
                    .parse()
                    .map_err(|_| err(format!("bad ready message {msg:?}"))),
                None if msg.is_empty() => {
                    Err(err("the zone's supervisor died before the zone booted"))
                }
                None => Err(err(msg)),
            }
        }
        ForkResult::Child => {
            drop(ready_r);
            // A daemon holds nothing of its caller's: not its stdio (whoever
            // reads vmadm's output would wait for the zone to stop), not its
            // locks (the zone's, or any other flock the caller holds). The
            // ready pipe becomes fd 3, everything else is closed, and
            // stdio is /dev/null.
            let ready_w = detach_fds(ready_w);
            // Detach: a second fork makes the supervisor a child of init(1),
            // so it outlives vmadm, in a session of its own.
            let _ = nix::unistd::setsid();
            // SAFETY: fork in the single-threaded child.
            match unsafe { fork() } {
                Ok(ForkResult::Parent { .. }) => unsafe { libc::_exit(0) },
                Ok(ForkResult::Child) => {}
                Err(_) => unsafe { libc::_exit(1) },
            }
            let status = supervise(plan, &init, ready_w);
            // SAFETY: leaving the supervisor process.
            unsafe { libc::_exit(status) }
        }
    }
}

/// Keep only `keep` (as fd 3) and stdio on /dev/null; close the rest.
fn detach_fds(keep: OwnedFd) -> OwnedFd {
    use std::os::fd::{AsRawFd, IntoRawFd};
    let raw = keep.into_raw_fd();
    // SAFETY: fd juggling in the just-forked, single-threaded child: dup2
    // onto 3, close every other descriptor, reopen stdio on /dev/null.
    unsafe {
        if raw != 3 {
            libc::dup2(raw, 3);
            libc::close(raw);
        }
        // dup2 drops close-on-exec: the zone's init must not inherit it
        // (vmadm waits for the pipe to close).
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
        // The null file's own descriptor (4 or above) closes as it drops.
        OwnedFd::from_raw_fd(3)
    }
}

fn report(fd: &OwnedFd, text: &str) {
    if let Ok(dup) = fd.try_clone() {
        let _ = std::fs::File::from(dup).write_all(text.as_bytes());
    }
}

/// The supervisor: fork init into the namespaces, tell the caller, wait.
fn supervise(plan: &BootPlan, init: &[CString], ready: OwnedFd) -> i32 {
    if let Err(e) = unshare(CloneFlags::CLONE_NEWPID) {
        report(&ready, &format!("unshare(CLONE_NEWPID): {}", e.desc()));
        return 1;
    }
    let (go_r, go_w) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            report(&ready, &e.to_string());
            return 1;
        }
    };
    let (err_r, err_w) = match pipe() {
        Ok(p) => p,
        Err(e) => {
            report(&ready, &e.to_string());
            return 1;
        }
    };
    // SAFETY: fork; the child becomes the zone's init (pid 1 there).
    let child = match unsafe { fork() } {
        Ok(ForkResult::Parent { child }) => child,
        Ok(ForkResult::Child) => {
            drop(go_w);
            drop(err_r);
            // Wait until the supervisor has put us in the zone's cgroups.
            let mut b = [0u8; 1];
            let _ = std::fs::File::from(go_r).read(&mut b);
            let r = unshare(zone_namespaces())
                .map_err(sys("unshare"))
                .and_then(|_| enter_root(&plan.root, &plan.hostname));
            if let Err(e) = r {
                report(&err_w, &e.to_string());
                // SAFETY: leaving init.
                unsafe { libc::_exit(1) };
            }
            let e = execv(&init[0], init);
            report(
                &err_w,
                &format!(
                    "exec {}: {}",
                    plan.init[0],
                    e.map_or_else(|e| e.desc(), |_| "")
                ),
            );
            // SAFETY: leaving init.
            unsafe { libc::_exit(127) };
        }
        Err(e) => {
            report(&ready, &format!("fork: {}", e.desc()));
            return 1;
        }
    };
    drop(go_r);
    drop(err_w);
    for cg in &plan.cgroups {
        if let Err(e) = std::fs::write(cg.join("cgroup.procs"), child.to_string()) {
            report(
                &ready,
                &format!("{}: {e}", cg.join("cgroup.procs").display()),
            );
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            return 1;
        }
    }
    drop(go_w);
    // init reports an error, or its exec closes the pipe (close-on-exec).
    let mut msg = String::new();
    let _ = std::fs::File::from(err_r).read_to_string(&mut msg);
    if !msg.is_empty() {
        report(&ready, &msg);
        let _ = nix::sys::wait::waitpid(child, None);
        return 1;
    }
    let _ = std::fs::write(plan.zone_dir.join("init.pid"), child.to_string());
    let _ = std::fs::write(plan.zone_dir.join("state"), "running\n");
    report(&ready, &format!("ok {child}"));
    drop(ready);
    let _ = nix::sys::wait::waitpid(child, None);
    let _ = std::fs::write(plan.zone_dir.join("state"), "stopped\n");
    let _ = std::fs::remove_file(plan.zone_dir.join("init.pid"));
    for cg in &plan.cgroups {
        let _ = std::fs::remove_dir(cg);
    }
    0
}

/// Run `command` inside the zone whose init is `init` (host pid): enter
/// its namespaces, then fork so the pid namespace applies. Returns the
/// command's exit status.
pub fn zlogin(init: i32, command: &[String]) -> Result<i32, RegistryError> {
    let args: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| err("the command contains a NUL byte")))
        .collect::<Result<_, _>>()?;
    let mut nss = Vec::new();
    for (name, flag) in [
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("net", CloneFlags::CLONE_NEWNET),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
    ] {
        let path = format!("/proc/{init}/ns/{name}");
        let f = std::fs::File::open(&path).map_err(|e| err(format!("{path}: {e}")))?;
        nss.push((f, flag));
    }
    for (f, flag) in &nss {
        setns(f.as_fd(), *flag).map_err(sys("setns"))?;
    }
    // SAFETY: fork; the child execs the command inside the zone.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            let _ = chdir("/");
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
        ForkResult::Parent { child } => wait_status(child),
    }
}

fn wait_status(child: Pid) -> Result<i32, RegistryError> {
    use nix::sys::wait::WaitStatus;
    match nix::sys::wait::waitpid(child, None).map_err(sys("waitpid"))? {
        WaitStatus::Exited(_, code) => Ok(code),
        WaitStatus::Signaled(_, sig, _) => Ok(128 + sig as i32),
        _ => Ok(1),
    }
}

impl Registry {
    /// Boot a stopped zone; returns its init's host pid.
    pub fn boot(&self, uuid: &str) -> Result<i32, RegistryError> {
        let _lock = self.lock_zone(uuid)?;
        let zone = self.get(uuid)?;
        if zone.state == ZoneState::Running {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "start a running zone",
            });
        }
        let m = &zone.manifest;
        let cgroups = crate::cgroups::prepare(uuid, m)?;
        let plan = BootPlan {
            root: self.zone_dir(uuid).join("root"),
            hostname: m
                .hostname
                .clone()
                .or_else(|| m.alias.clone())
                .unwrap_or_else(|| uuid.to_string()),
            init: m.init.clone().unwrap_or_else(|| vec!["/sbin/init".into()]),
            cgroups,
            zone_dir: self.zone_dir(uuid),
        };
        let pid = boot(&plan)?;
        crate::registry::fire(uuid, |_, name| probes::zone::boot(|| (pid as u64, name)));
        Ok(pid)
    }

    /// Stop and boot again.
    pub fn reboot(&self, uuid: &str) -> Result<i32, RegistryError> {
        self.halt(uuid, false, std::time::Duration::from_secs(5))?;
        self.boot(uuid)
    }

    /// Stop a running zone: SIGTERM to its init, SIGKILL after `grace`
    /// (at once with `force`); waits until the supervisor marks it stopped.
    pub fn halt(
        &self,
        uuid: &str,
        force: bool,
        grace: std::time::Duration,
    ) -> Result<(), RegistryError> {
        let _lock = self.lock_zone(uuid)?;
        let pid = self.init_pid(uuid)?;
        let sig = |s| nix::sys::signal::kill(Pid::from_raw(pid), s);
        let started = std::time::Instant::now();
        if !force {
            let _ = sig(nix::sys::signal::Signal::SIGTERM);
        }
        let mut killed = force;
        if force {
            let _ = sig(nix::sys::signal::Signal::SIGKILL);
        }
        loop {
            if self.get(uuid)?.state == ZoneState::Stopped {
                crate::registry::fire(uuid, |_, name| probes::zone::halt(|| (pid as u64, name)));
                return Ok(());
            }
            if !killed && started.elapsed() >= grace {
                // An init without a SIGTERM handler ignores it from outside.
                let _ = sig(nix::sys::signal::Signal::SIGKILL);
                killed = true;
            }
            if started.elapsed() > grace + std::time::Duration::from_secs(10) {
                return Err(err(format!("zone {uuid} did not stop")));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Run a command in a running zone, under the zone's caps.
    pub fn login(&self, uuid: &str, command: &[String]) -> Result<i32, RegistryError> {
        let pid = self.init_pid(uuid)?;
        crate::cgroups::join(uuid)?;
        zlogin(pid, command)
    }

    /// The host pid of a running zone's init.
    pub fn init_pid(&self, uuid: &str) -> Result<i32, RegistryError> {
        let zone = self.get(uuid)?;
        if zone.state != ZoneState::Running {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "do that to a stopped zone",
            });
        }
        let path = self.zone_dir(uuid).join("init.pid");
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| err(format!("{}: no init pid", path.display())))
    }
}
