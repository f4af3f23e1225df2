//! A zone's root filesystem, built in two halves.
//!
//! [`prepare`] runs in the supervisor, as the host's root, in a mount
//! namespace of its own: the zone's root directory bound onto itself, the
//! host's system directories bound read-only as a SmartOS sparse zone's,
//! a brand's files (a VM's images), and size-capped tmpfs mounts for
//! `/tmp`, `/run` and `/dev` (whose device nodes are the zone's own,
//! made here, owned by the zone's root). The zone's init is then cloned
//! into a new user and mount namespace, a copy of this one, and the
//! kernel locks every mount of the copy: the zone cannot unmount them,
//! remount them read-write or resize them, even holding `CAP_SYS_ADMIN`
//! in its namespace.
//!
//! [`finish`] runs in that init, as the zone's root: what must belong to
//! the zone's own namespaces (`/proc` for its pid namespace, `/sys` for
//! its network namespace, `/dev/pts` for its terminals), `/proc` and
//! `/sys` paths masked and made read-only as runc does, `/etc`, and the
//! pivot into the new root.

use crate::devices::Device;
use crate::ids::IdRange;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, pivot_root};
use std::path::{Path, PathBuf};

/// Host directories a zone sees read-only, as a SmartOS sparse zone does.
const SYSTEM_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
/// Host `/etc` files copied into the zone's private `/etc`.
const ETC_FILES: &[&str] = &["passwd", "group", "nsswitch.conf", "localtime"];
/// Directories every zone root has, owned by the zone's root.
const ROOT_DIRS: &[&str] = &[
    "proc", "sys", "dev", "tmp", "root", "run", "var", "var/tmp", "home", "etc",
];
/// `/proc` files and directories hidden from a zone (runc's list): a
/// file gets `/dev/null` bound over it, a directory an empty read-only
/// tmpfs.
const PROC_MASKED: &[&str] = &[
    "proc/acpi",
    "proc/asound",
    "proc/kcore",
    "proc/keys",
    "proc/latency_stats",
    "proc/timer_list",
    "proc/timer_stats",
    "proc/sched_debug",
    "proc/scsi",
    "sys/firmware",
    "sys/devices/virtual/powercap",
];
/// `/proc` paths a zone may read, never write (runc's list).
const PROC_READ_ONLY: &[&str] = &[
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "proc/sysrq-trigger",
];
/// The zone's `tty` group (Debian's), owner of its terminals.
const TTY_GID: u32 = 5;

/// Why a zone's root could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A mount failed.
    #[error("{what} at {}: {}", .target.display(), .errno.desc())]
    Mount {
        /// What was being mounted.
        what: String,
        /// Where.
        target: PathBuf,
        /// Why.
        errno: nix::Error,
    },
    /// A file or directory could not be made or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another system call failed.
    #[error("{call}: {}", .errno.desc())]
    Sys {
        /// The call.
        call: &'static str,
        /// Why.
        errno: nix::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RootfsError + '_ {
    move |source| RootfsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sys(call: &'static str) -> impl FnOnce(nix::Error) -> RootfsError {
    move |errno| RootfsError::Sys { call, errno }
}

/// Mount, naming what failed.
fn mnt(
    what: &str,
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), RootfsError> {
    mount(source, target, fstype, flags, data).map_err(|errno| RootfsError::Mount {
        what: what.to_string(),
        target: target.to_path_buf(),
        errno,
    })
}

/// A host file or directory bound into the zone root at `inside` (a VM's
/// images and its directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// The host path.
    pub host: PathBuf,
    /// Absolute path inside the zone.
    pub inside: String,
    /// Bound read-only.
    pub read_only: bool,
}

/// What a zone's root is made of.
#[derive(Debug, Clone)]
pub struct RootPlan {
    /// The zone's root directory on the host.
    pub root: PathBuf,
    /// Its hostname.
    pub hostname: String,
    /// Its ids on the host.
    pub ids: IdRange,
    /// Size of `/tmp`, `/run` and `/dev` each, in MiB (None: the kernel's
    /// default, half the host's memory).
    pub tmpfs_mib: Option<u64>,
    /// The devices it gets a node for.
    pub devices: Vec<Device>,
    /// Host files and directories bound in (a VM's images).
    pub binds: Vec<Bind>,
    /// The root is an image's files, owned on disk by the zone's own ids
    /// (0 to 65535): mounted idmapped onto the zone's range, whole-root
    /// (the image's own `/usr`, not the host's).
    pub idmapped: bool,
    /// A delegated dataset: its directory on the host, and where the zone
    /// sees it (`/zones/UUID/data`, as on SmartOS).
    pub delegated: Option<(PathBuf, String)>,
}

impl RootPlan {
    fn chown_zone_root(&self, path: &Path) -> Result<(), RootfsError> {
        let id = self.ids.first();
        std::os::unix::fs::lchown(path, Some(id), Some(id)).map_err(io(path))
    }

    /// `mode=…,size=…,uid=…,gid=…` for a tmpfs of the zone's.
    fn tmpfs_options(&self, mode: &str) -> String {
        let id = self.ids.first();
        let mut opts = format!("mode={mode},uid={id},gid={id}");
        if let Some(mib) = self.tmpfs_mib {
            opts.push_str(&format!(",size={mib}m"));
        }
        opts
    }
}

/// The host half: in the calling supervisor, which must be in a mount
/// namespace of its own ([`private_namespace`]), build the zone's root
/// and make it the working directory (which the zone's init inherits).
pub fn prepare(plan: &RootPlan) -> Result<(), RootfsError> {
    let root = &plan.root;
    std::fs::create_dir_all(root).map_err(io(root))?;
    if plan.idmapped {
        // Made before the idmapped mount, by the host's root: on disk
        // they are id 0, which the mount shows as the zone's root. (Host
        // root may not make files through the mount: its id is not in
        // the mount's map.)
        let inside = plan
            .delegated
            .as_ref()
            .map(|(_, i)| i.trim_start_matches('/'));
        for d in ROOT_DIRS.iter().copied().chain(inside) {
            let dir = root.join(d);
            if std::fs::symlink_metadata(&dir).is_err() {
                std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            }
        }
        idmapped_bind(root, root, &plan.ids)?;
    }
    plan.chown_zone_root(root)?;
    nix::sys::stat::fchmodat(
        None,
        root,
        nix::sys::stat::Mode::from_bits_truncate(0o755),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .map_err(sys("chmod of the zone root"))?;
    if !plan.idmapped {
        mnt(
            "the zone root",
            Some(root),
            root,
            None,
            MsFlags::MS_BIND,
            None,
        )?;
    }
    for d in ROOT_DIRS {
        let dir = root.join(d);
        if std::fs::symlink_metadata(&dir).is_err() {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            plan.chown_zone_root(&dir)?;
        }
    }
    // The delegated dataset, the zone's own: seen through the same idmap
    // as the root, or given to the zone's root.
    if let Some((host, inside)) = &plan.delegated {
        let at = root.join(inside.trim_start_matches('/'));
        if plan.idmapped {
            idmapped_bind(host, &at, &plan.ids)?;
        } else {
            std::fs::create_dir_all(&at).map_err(io(&at))?;
            plan.chown_zone_root(host)?;
            mnt(
                "the delegated dataset",
                Some(host),
                &at,
                None,
                MsFlags::MS_BIND,
                None,
            )?;
        }
    }
    // A whole-root zone (from an image) runs its image's own system.
    let system_dirs: &[&str] = if plan.idmapped { &[] } else { SYSTEM_DIRS };
    for d in system_dirs {
        let host = Path::new("/").join(d);
        let inside = root.join(d);
        let Ok(meta) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            // Merged /usr: /bin -> usr/bin and so on, as on the host.
            let target = std::fs::read_link(&host).map_err(io(&host))?;
            let _ = std::fs::remove_file(&inside);
            std::os::unix::fs::symlink(&target, &inside).map_err(io(&inside))?;
            plan.chown_zone_root(&inside)?;
            continue;
        }
        if !inside.is_dir() {
            std::fs::create_dir_all(&inside).map_err(io(&inside))?;
            plan.chown_zone_root(&inside)?;
        }
        bind_read_only(&host, &inside, true)?;
    }
    for b in &plan.binds {
        let inside = root.join(b.inside.trim_start_matches('/'));
        if b.host.is_dir() {
            std::fs::create_dir_all(&inside).map_err(io(&inside))?;
        } else {
            if let Some(dir) = inside.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            std::fs::write(&inside, b"").map_err(io(&inside))?;
        }
        if b.read_only {
            bind_read_only(&b.host, &inside, false)?;
        } else {
            mnt(
                &format!("{}", b.host.display()),
                Some(&b.host),
                &inside,
                None,
                MsFlags::MS_BIND,
                None,
            )?;
        }
    }
    let nosuid_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    mnt(
        "/tmp",
        Some(Path::new("tmpfs")),
        &root.join("tmp"),
        Some("tmpfs"),
        nosuid_nodev,
        Some(&plan.tmpfs_options("1777")),
    )?;
    mnt(
        "/run",
        Some(Path::new("tmpfs")),
        &root.join("run"),
        Some("tmpfs"),
        nosuid_nodev,
        Some(&plan.tmpfs_options("755")),
    )?;
    // /dev: a tmpfs holding the zone's own nodes for its allowed devices
    // (the devices cgroup refuses every other), owned by the zone's root.
    // Made here, by the host's root: a user namespace cannot mknod.
    let dev = root.join("dev");
    mnt(
        "/dev",
        Some(Path::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(&plan.tmpfs_options("755")),
    )?;
    for d in plan.devices.iter().filter(|d| d.has_node()) {
        let node = dev.join(d.path);
        if let Some(dir) = node.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            plan.chown_zone_root(dir)?;
        }
        nix::sys::stat::mknod(
            &node,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(d.mode),
            d.dev_t(),
        )
        .map_err(sys("mknod of a zone device"))?;
        // mknod is subject to the umask; the node's mode is the device's.
        nix::sys::stat::fchmodat(
            None,
            &node,
            nix::sys::stat::Mode::from_bits_truncate(d.mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(sys("chmod of a zone device"))?;
        plan.chown_zone_root(&node)?;
    }
    for (dir, mode) in [("pts", 0o755), ("shm", 0o1777)] {
        let path = dev.join(dir);
        std::fs::create_dir_all(&path).map_err(io(&path))?;
        nix::sys::stat::fchmodat(
            None,
            &path,
            nix::sys::stat::Mode::from_bits_truncate(mode),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .map_err(sys("chmod of a /dev directory"))?;
        plan.chown_zone_root(&path)?;
    }
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let path = dev.join(link);
        std::os::unix::fs::symlink(target, &path).map_err(io(&path))?;
        plan.chown_zone_root(&path)?;
    }
    chdir(root).map_err(sys("entering the zone root"))?;
    Ok(())
}

/// Bind `source` at `target` (the zone's root onto itself, a delegated
/// dataset into it) through an idmapped mount: ids 0 to
/// 65535 on disk are the zone's range (`ids`) through it, and what the
/// zone writes is stored as its own ids. Linux 5.12's `mount_setattr`
/// (`MOUNT_ATTR_IDMAP`) on a detached copy of the tree, then moved into
/// place; the map comes from a user namespace made for the purpose.
fn idmapped_bind(source: &Path, target: &Path, ids: &IdRange) -> Result<(), RootfsError> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const OPEN_TREE_CLONE: u32 = 1;
    const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
    const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
    let userns = user_namespace(ids)?;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| sys("open_tree")(nix::Error::EINVAL))
    };
    let (path, target) = (c(source)?, c(target)?);
    let fail = |call: &'static str| sys(call)(nix::Error::last());
    // SAFETY: open_tree on a NUL-terminated path; the fd is new and ours.
    let tree = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as u32,
        )
    };
    if tree < 0 {
        return Err(fail("open_tree of the zone root"));
    }
    // SAFETY: as above.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: mount_setattr on our detached tree with a struct of the size passed.
    if unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr,
            std::mem::size_of::<MountAttr>(),
        )
    } < 0
    {
        return Err(fail("mount_setattr(MOUNT_ATTR_IDMAP) of the zone root"));
    }
    // SAFETY: move_mount of our tree onto a NUL-terminated path.
    if unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    } < 0
    {
        return Err(fail("move_mount of the idmapped zone root"));
    }
    Ok(())
}

/// A user namespace whose ids 0 to 65535 are `ids`: a child unshares
/// one and waits while its maps are written and the namespace opened.
fn user_namespace(ids: &IdRange) -> Result<std::os::fd::OwnedFd, RootfsError> {
    use nix::unistd::{fork, ForkResult};
    use std::io::{Read, Write};
    let (ready_r, ready_w) = nix::unistd::pipe().map_err(sys("pipe"))?;
    let (go_r, go_w) = nix::unistd::pipe().map_err(sys("pipe"))?;
    // SAFETY: the caller (the zone's supervisor) is single-threaded; the
    // child only unshares, reports, waits and exits.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Child => {
            drop((ready_r, go_w));
            let ok = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).is_ok();
            let _ = std::fs::File::from(ready_w).write_all(if ok { b"y" } else { b"n" });
            let mut b = [0u8; 1];
            let _ = std::fs::File::from(go_r).read(&mut b);
            // SAFETY: leaving the forked child.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop((ready_w, go_r));
            let mut b = [0u8; 1];
            let got = std::fs::File::from(ready_r).read(&mut b).ok();
            let ns = (|| {
                if got != Some(1) || b[0] != b'y' {
                    return Err(sys("unshare(CLONE_NEWUSER) for the idmap")(
                        nix::Error::EPERM,
                    ));
                }
                ids.write_maps(child.as_raw()).map_err(|_| {
                    sys("writing the idmap's user namespace maps")(nix::Error::EPERM)
                })?;
                let p = format!("/proc/{}/ns/user", child.as_raw());
                let f = std::fs::File::open(&p).map_err(io(Path::new(&p)))?;
                Ok(std::os::fd::OwnedFd::from(f))
            })();
            drop(go_w);
            let _ = nix::sys::wait::waitpid(child, None);
            ns
        }
    }
}

/// Bind `host` at `inside` read-only (a bind ignores MS_RDONLY: a second,
/// remounting, mount sets it).
fn bind_read_only(host: &Path, inside: &Path, recursive: bool) -> Result<(), RootfsError> {
    let rec = if recursive {
        MsFlags::MS_REC
    } else {
        MsFlags::empty()
    };
    let what = format!("{} (read-only)", host.display());
    mnt(
        &what,
        Some(host),
        inside,
        None,
        MsFlags::MS_BIND | rec,
        None,
    )?;
    mnt(
        &what,
        None,
        inside,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | rec,
        None,
    )
}

/// Give the calling process a mount namespace of its own, from which
/// nothing propagates back to the host.
pub fn private_namespace() -> Result<(), RootfsError> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(sys("unshare(CLONE_NEWNS)"))?;
    mnt(
        "making / private",
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )
}

/// Drop the supervisor's own mounts of the zone's root once the zone's
/// init has its copy: the zone's tmpfs contents then live only as long
/// as the zone.
pub fn release(plan: &RootPlan) {
    let _ = chdir("/");
    let _ = umount2(&plan.root, MntFlags::MNT_DETACH);
}

/// Host files copied into the zone's `/etc`, read by the supervisor (the
/// zone's init cannot assume it may read them).
#[derive(Debug, Clone, Default)]
pub struct EtcFiles(Vec<(&'static str, Vec<u8>)>);

impl EtcFiles {
    /// Read them from the host's `/etc`; missing ones are skipped.
    pub fn read() -> EtcFiles {
        EtcFiles(
            ETC_FILES
                .iter()
                .filter_map(|f| Some((*f, std::fs::read(Path::new("/etc").join(f)).ok()?)))
                .collect(),
        )
    }
}

/// In the zone's init, before it takes the zone's ids (while it may still
/// walk the host's root-only directories to the zone's root): bind the
/// root [`prepare`] built onto itself, with everything on it, and enter
/// that. The copy the kernel made of the supervisor's mounts is locked,
/// and pivot_root(2) will not move a locked mount; this bind is the
/// zone's own, while the mounts under it stay locked.
pub fn rebind(plan: &RootPlan) -> Result<(), RootfsError> {
    mnt(
        "the zone root (the zone's own)",
        Some(&plan.root),
        &plan.root,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    chdir(&plan.root).map_err(sys("entering the zone root"))
}

/// The zone half: in the zone's init, as the zone's root, its working
/// directory the root [`prepare`] built: mount what belongs to the
/// zone's namespaces, write `/etc`, and pivot.
pub fn finish(plan: &RootPlan, etc: &EtcFiles) -> Result<(), RootfsError> {
    let here = Path::new(".");
    // A private /etc: the zone's own hostname and hosts, the host's users.
    // Written as the zone's root, so the zone owns it.
    let etc_dir = here.join("etc");
    for (name, bytes) in &etc.0 {
        let path = etc_dir.join(name);
        if std::fs::symlink_metadata(&path).is_err() {
            std::fs::write(&path, bytes).map_err(io(&path))?;
        }
    }
    let hostname = &plan.hostname;
    std::fs::write(etc_dir.join("hostname"), format!("{hostname}\n"))
        .map_err(io(&etc_dir.join("hostname")))?;
    std::fs::write(
        etc_dir.join("hosts"),
        format!("127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost\n"),
    )
    .map_err(io(&etc_dir.join("hosts")))?;
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mnt(
        "/proc",
        Some(Path::new("proc")),
        Path::new("proc"),
        Some("proc"),
        hidden,
        None,
    )?;
    // /sys read-only: the kernel shows it only to a namespace that owns
    // its network namespace, which the zone's does.
    mnt(
        "/sys",
        Some(Path::new("sysfs")),
        Path::new("sys"),
        Some("sysfs"),
        hidden | MsFlags::MS_RDONLY,
        None,
    )?;
    mnt(
        "/dev/pts",
        Some(Path::new("devpts")),
        Path::new("dev/pts"),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(&format!("newinstance,ptmxmode=0666,mode=620,gid={TTY_GID}")),
    )?;
    for path in PROC_MASKED.iter().map(Path::new) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            continue;
        };
        if meta.is_dir() {
            mnt(
                "a masked directory",
                Some(Path::new("tmpfs")),
                path,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | hidden,
                Some("mode=555"),
            )?;
        } else {
            mnt(
                "a masked file",
                Some(Path::new("dev/null")),
                path,
                None,
                MsFlags::MS_BIND,
                None,
            )?;
        }
    }
    for path in PROC_READ_ONLY.iter().map(Path::new) {
        if std::fs::symlink_metadata(path).is_ok() {
            bind_read_only(path, path, true)?;
        }
    }
    nix::unistd::sethostname(hostname).map_err(sys("sethostname"))?;
    // Pivot: the zone root becomes /, the host's is detached. With "." as
    // both new and old root (pivot_root(2)'s own recipe, as runc does),
    // the old root is stacked on the new one and detached from there: no
    // directory for it to make and remove on the zone's disk each boot.
    pivot_root(".", ".").map_err(sys("pivot_root"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(sys("detaching the host root"))?;
    chdir("/").map_err(sys("chdir /"))?;
    Ok(())
}
