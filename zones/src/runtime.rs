//! Booting a zone: a supervisor process (as SmartOS's zoneadmd) clones the
//! zone's init into new pid, mount, uts, ipc and net namespaces and the
//! zone's cgroup2 group in one clone3(2); init joins the zone's cgroup v1
//! groups itself, unshares its cgroup namespace, builds the zone's root —
//! the host's system directories bound read-only as a sparse zone's, a
//! private `/etc` with the zone's hostname, `/proc`, a minimal `/dev`, a
//! private `/tmp` — pivots into it and runs the zone's init command. The
//! supervisor waits for init, then marks the zone stopped and removes its
//! cgroups.
//!
//! Nobody writes another process's pid into a `cgroup.procs` on this path:
//! that costs an RCU grace period (see [`crate::clone`]).
//!
//! `zlogin` enters those namespaces (`setns`) and runs a command there.

use crate::cgroups::{self, ZoneCgroups};
use crate::clone::{clone_into, Cloned};
use crate::kvm::Bind;
use crate::manifest::Manifest;
use crate::registry::{Registry, RegistryError, Zone, ZoneState};
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
fn enter_root(
    root: &Path,
    hostname: &str,
    binds: &[Bind],
    devices: &[String],
) -> Result<(), RegistryError> {
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
    // What this zone's brand needs from the host (a VM's image files).
    for b in binds {
        let inside = root.join(b.inside.trim_start_matches('/'));
        if b.host.is_dir() {
            std::fs::create_dir_all(&inside)
                .map_err(|e| err(format!("{}: {e}", inside.display())))?;
        } else {
            if let Some(dir) = inside.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
            }
            std::fs::write(&inside, b"").map_err(|e| err(format!("{}: {e}", inside.display())))?;
        }
        mount(
            Some(&b.host),
            &inside,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| {
            err(format!(
                "binding {} at {}: {}",
                b.host.display(),
                b.inside,
                e.desc()
            ))
        })?;
        if b.read_only {
            mount(
                None::<&str>,
                &inside,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                None::<&str>,
            )
            .map_err(sys("making a bound file read-only"))?;
        }
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
    for d in DEVICES
        .iter()
        .copied()
        .chain(devices.iter().map(String::as_str))
    {
        let node = dev.join(d);
        if let Some(dir) = node.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
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
    // Pivot: the zone root becomes /, the host's is detached. With "." as
    // both new and old root (pivot_root(2)'s own recipe, as runc does),
    // the old root is stacked on the new one and detached from there: no
    // directory for it to make and remove on the zone's disk each boot.
    chdir(root).map_err(sys("entering the zone root"))?;
    pivot_root(".", ".").map_err(sys("pivot_root"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(sys("detaching the host root"))?;
    chdir("/").map_err(sys("chdir /"))?;
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

/// The namespaces init is cloned into. The cgroup namespace comes after,
/// from init itself, once it is in all of the zone's groups: a cgroup
/// namespace is rooted where its creator is, in every hierarchy.
fn clone_namespaces() -> CloneFlags {
    CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET
}

/// The text of a boot error, without `Boot`'s "cannot boot" prefix (the
/// caller adds it once).
fn message(e: RegistryError) -> String {
    match e {
        RegistryError::Boot(m) => m,
        other => other.to_string(),
    }
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
    /// The zone's cgroups, created and capped.
    pub cgroups: ZoneCgroups,
    /// Where the supervisor records init's pid and the zone's state.
    pub zone_dir: PathBuf,
    /// Host files and directories bound into the root (a VM's images).
    pub binds: Vec<Bind>,
    /// Host devices (relative to `/dev`) beyond every zone's.
    pub devices: Vec<String>,
}

/// Boot: fork the supervisor, which clones init; returns once init runs
/// the command (or with init's error). The supervisor outlives the caller.
pub fn boot(plan: &BootPlan) -> Result<i32, RegistryError> {
    let (ready_r, ready_w) = pipe()?;
    let init: Vec<CString> = plan
        .init
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| err("the init command contains a NUL byte")))
        .collect::<Result<_, _>>()?;
    if init.is_empty() {
        return Err(err("the init command is empty"));
    }
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
            // so it outlives vmadm, in a session of its own, and a caller
            // that lives on is not left with a zombie when the zone stops.
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

/// The supervisor: start init, tell the caller, wait for init to end.
fn supervise(plan: &BootPlan, init: &[CString], ready: OwnedFd) -> i32 {
    let child = match start_init(plan, init) {
        Ok(child) => child,
        Err(e) => {
            // Init is gone (start_init reaped it), so its groups can go
            // before the caller hears: it then finds nothing left.
            plan.cgroups.remove();
            report(&ready, &message(e));
            return 1;
        }
    };
    // Runtime state, not fsync'd: after a crash no zone runs, whatever
    // these files say; the manifest is what must survive.
    let _ = std::fs::write(plan.zone_dir.join("init.pid"), child.to_string());
    let _ = std::fs::write(plan.zone_dir.join("state"), "running\n");
    report(&ready, &format!("ok {child}"));
    drop(ready);
    let _ = nix::sys::wait::waitpid(child, None);
    // The groups go before the zone is marked stopped: `vmadm stop` returns
    // once it reads "stopped", and a `start` right after makes the groups
    // again, which a late removal here would take from under it.
    plan.cgroups.remove();
    let _ = std::fs::remove_file(plan.zone_dir.join("init.pid"));
    let _ = std::fs::write(plan.zone_dir.join("state"), "stopped\n");
    0
}

/// Clone the zone's init and wait until it has exec'd the init command;
/// its host pid. On error init has exited and been reaped.
fn start_init(plan: &BootPlan, init: &[CString]) -> Result<Pid, RegistryError> {
    // Opened before the clone, so init needs no path lookups to join, and
    // a missing group is reported here. All are close-on-exec.
    let tasks = cgroups::open_tasks(&plan.cgroups.v1)?;
    let unified = std::fs::File::open(&plan.cgroups.unified)
        .map_err(|e| err(format!("{}: {e}", plan.cgroups.unified.display())))?;
    let (err_r, err_w) = pipe()?;
    // SAFETY: the supervisor is single-threaded; the child builds the zone
    // and execs, or reports and exits.
    match unsafe { clone_into(clone_namespaces(), Some(unified.as_fd())) }
        .map_err(sys("clone3 into the zone's namespaces and cgroup2 group"))?
    {
        Cloned::Child => {
            drop(err_r);
            let r = cgroups::join_self(&tasks)
                .map_err(|e| err(format!("joining the zone's cgroups: {e}")))
                .and_then(|_| {
                    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(sys("unshare(CLONE_NEWCGROUP)"))
                })
                .and_then(|_| enter_root(&plan.root, &plan.hostname, &plan.binds, &plan.devices));
            if let Err(e) = r {
                report(&err_w, &message(e));
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
        Cloned::Parent(child) => {
            drop(err_w);
            // init reports an error, or its exec closes the pipe
            // (close-on-exec).
            let mut msg = String::new();
            let _ = std::fs::File::from(err_r).read_to_string(&mut msg);
            if msg.is_empty() {
                return Ok(child);
            }
            let _ = nix::sys::wait::waitpid(child, None);
            Err(err(msg))
        }
    }
}

/// Run `command` inside the zone whose init is `init` (host pid) and
/// whose groups are `cgroups`: join its v1 groups, enter its namespaces,
/// then clone the command into its cgroup2 group (and so into the pid
/// namespace). Returns the command's exit status. The caller must be
/// single-threaded (see [`cgroups::join_self`]).
pub fn zlogin(
    init: i32,
    cgroups: &ZoneCgroups,
    command: &[String],
    terminal: bool,
) -> Result<i32, RegistryError> {
    let args: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| err("the command contains a NUL byte")))
        .collect::<Result<_, _>>()?;
    if args.is_empty() {
        return Err(err("zlogin: no command"));
    }
    cgroups::join_self(&cgroups::open_tasks(&cgroups.v1)?)
        .map_err(|e| RegistryError::Cgroup(format!("cannot join the zone's cgroups: {e}")))?;
    let unified = std::fs::File::open(&cgroups.unified)
        .map_err(|e| RegistryError::Cgroup(format!("{}: {e}", cgroups.unified.display())))?;
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
    // An interactive login gets a terminal of the zone's own, as zlogin's
    // does on SmartOS; a command runs on the caller's stdio.
    let pty = if terminal {
        Some(crate::pty::open(libc::STDIN_FILENO)?)
    } else {
        None
    };
    // SAFETY: the caller is single-threaded; the child execs the command
    // inside the zone.
    match unsafe { clone_into(CloneFlags::empty(), Some(unified.as_fd())) }
        .map_err(sys("clone3 into the zone's cgroup2 group"))?
    {
        Cloned::Child => {
            if let Some(p) = &pty {
                if let Err(e) = crate::pty::become_login(&p.slave) {
                    eprintln!("zlogin: the zone's terminal: {e}");
                    // SAFETY: leaving the child.
                    unsafe { libc::_exit(126) }
                }
            }
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
        Cloned::Parent(child) => {
            if let Some(p) = pty {
                // The shell holds the slave; ours must close, or the
                // master never sees the shell's side shut.
                drop(p.slave);
                crate::pty::relay(p.master)?;
            }
            wait_status(child)
        }
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
    /// `vmadm create`: create a zone from a manifest's text and, unless
    /// the manifest says `"autoboot": false`, boot it, as SmartOS's does.
    /// All or nothing: a zone that cannot boot is deleted again, and the
    /// boot error returned. The zone, and its init's host pid if booted.
    pub fn provision(&self, text: &str) -> Result<(Zone, Option<i32>), RegistryError> {
        let manifest = Manifest::parse(text)?;
        let uuid = manifest.uuid.clone();
        // One lock from creation to running: nobody sees the zone stopped
        // in between, or deletes it under the boot.
        let _lock = self.lock_zone(&uuid)?;
        let mut zone = self.create_locked(manifest)?;
        if !zone.manifest.autoboot {
            return Ok((zone, None));
        }
        match self.boot_locked(&uuid, &zone.manifest) {
            Ok(pid) => {
                zone.state = ZoneState::Running;
                Ok((zone, Some(pid)))
            }
            Err(e) => {
                let _ = self.remove_locked(&uuid);
                Err(e)
            }
        }
    }

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
        self.boot_locked(uuid, &zone.manifest)
    }

    /// Boot stopped zone `uuid` with manifest `m`, its lock held.
    fn boot_locked(&self, uuid: &str, m: &Manifest) -> Result<i32, RegistryError> {
        let cgroups = crate::cgroups::prepare(uuid, m)?;
        let vm = match &m.vm {
            Some(spec) => {
                let zone_dir = self.zone_dir(uuid);
                // The VMM's `vm` probe argument is the zone's id in D: its
                // cgroup2 group's id, which is the directory's inode.
                let zone_id = std::fs::metadata(&cgroups.unified).map(|md| {
                    use std::os::unix::fs::MetadataExt;
                    md.ino()
                });
                let lumen = std::env::current_exe()
                    .map_err(|e| err(format!("finding the lumen binary: {e}")));
                let planned = zone_id
                    .map_err(|e| err(format!("{}: {e}", cgroups.unified.display())))
                    .and_then(|id| {
                        crate::kvm::create_disks(&zone_dir, spec)?;
                        crate::kvm::plan(&zone_dir, id, spec, &lumen?)
                    });
                match planned {
                    Ok(p) => Some(p),
                    Err(e) => {
                        cgroups.remove();
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let (vm_init, binds, devices) = match vm {
            Some(p) => (Some(p.init), p.binds, p.devices),
            None => (None, Vec::new(), Vec::new()),
        };
        let plan = BootPlan {
            root: self.zone_dir(uuid).join("root"),
            hostname: m
                .hostname
                .clone()
                .or_else(|| m.alias.clone())
                .unwrap_or_else(|| uuid.to_string()),
            init: vm_init
                .or_else(|| m.init.clone())
                .unwrap_or_else(|| vec!["/sbin/init".into()]),
            cgroups,
            zone_dir: self.zone_dir(uuid),
            binds,
            devices,
        };
        let pid = boot(&plan).inspect_err(|_| {
            // The supervisor removes them when init fails; not when the
            // supervisor itself never ran.
            plan.cgroups.remove();
        })?;
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
            // The supervisor's own word, not the cgroup test of `get`: it
            // removes the groups first and writes "stopped" last, and a
            // start must not race that last write.
            if self.recorded_state(uuid)? == ZoneState::Stopped {
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
    pub fn login(
        &self,
        uuid: &str,
        command: &[String],
        terminal: bool,
    ) -> Result<i32, RegistryError> {
        let pid = self.init_pid(uuid)?;
        zlogin(pid, &cgroups::of(uuid), command, terminal)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provision_without_autoboot_creates_a_stopped_zone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let r = Registry::at(dir.path()).expect("registry");
        let (zone, pid) = r
            .provision(r#"{"alias": "parked", "autoboot": false}"#)
            .expect("provision");
        assert_eq!(pid, None);
        assert_eq!(zone.state, ZoneState::Stopped);
        let got = r.get(&zone.manifest.uuid).expect("get");
        assert_eq!(got.state, ZoneState::Stopped);
        assert!(!got.manifest.autoboot);
    }

    #[test]
    fn autoboot_is_true_when_absent() {
        assert!(Manifest::parse("{}").expect("valid").autoboot);
    }
}
