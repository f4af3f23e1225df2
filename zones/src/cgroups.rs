//! A zone's resource caps and device allowlist: cgroup v1 `cpu`, `memory`,
//! `pids` and `devices` controllers as this host mounts them under
//! `/sys/fs/cgroup/NAME`, and a cgroup2 group under
//! `/sys/fs/cgroup/unified` that names the zone to BPF
//! (`bpf_get_current_cgroup_id`) and can kill it whole (`cgroup.kill`).
//! Each is `lumen/UUID`. The zone's supervisor lives in a cgroup2 group of
//! its own, `lumen-supervisors/UUID`, so a supervisor left by a killed
//! `vmadm` is found and stopped the same way.
//!
//! The zone sees its groups as the root of its cgroup namespace, and
//! cannot write them: their files belong to the host's root, whom the
//! zone's user namespace does not map.

use crate::devices::Device;
use crate::manifest::Manifest;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the controllers are mounted.
const ROOT: &str = "/sys/fs/cgroup";
/// The cgroup2 hierarchy next to them.
const UNIFIED: &str = "/sys/fs/cgroup/unified";
/// The v1 controllers a zone is capped by.
const V1: [&str; 4] = ["cpu", "memory", "pids", "devices"];
/// CFS period for `cpu_cap` (100 ms, the kernel's default).
const CFS_PERIOD_US: u64 = 100_000;
/// The cgroup2 directory holding the supervisors' groups.
const SUPERVISORS: &str = "lumen-supervisors";

/// Why a zone's cgroups could not be made, set, killed or removed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A controller the zones need is not mounted.
    #[error("the {name} cgroup controller is not mounted at {} (zones need it)", .mount.display())]
    NotMounted {
        /// The controller.
        name: String,
        /// Where it should be.
        mount: PathBuf,
    },
    /// A cgroup file or directory could not be used.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A group still had processes after they were killed.
    #[error("{}: processes still in the group after {waited:?}", .path.display())]
    StillPopulated {
        /// The group.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(io(&path))
}

/// Where controller `name` (or cgroup2, "unified") is mounted.
fn mount_of(name: &str) -> PathBuf {
    if name == "unified" {
        PathBuf::from(UNIFIED)
    } else {
        Path::new(ROOT).join(name)
    }
}

/// The cgroup directory of controller `name` for zone `uuid`, created.
fn group(name: &str, uuid: &str) -> Result<PathBuf, CgroupError> {
    let mount = mount_of(name);
    if !mount.is_dir() {
        return Err(CgroupError::NotMounted {
            name: name.into(),
            mount,
        });
    }
    let dir = mount.join("lumen").join(uuid);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    Ok(dir)
}

/// A zone's cgroup directories.
#[derive(Debug, Clone)]
pub struct ZoneCgroups {
    /// The v1 controllers' groups (`cpu`, `memory`, `pids`, `devices`).
    /// Init joins them itself, writing 0 to each `tasks` file (see
    /// [`join_self`]).
    pub v1: Vec<PathBuf>,
    /// The cgroup2 group: init is cloned straight into it.
    pub unified: PathBuf,
}

impl ZoneCgroups {
    /// Whether any process is in the zone (its cgroup2 group, which every
    /// process of the zone is cloned into, is populated).
    pub fn populated(&self) -> bool {
        populated(&self.unified)
    }

    /// Kill every process of the zone at once (`cgroup.kill`, Linux 5.14),
    /// then wait up to `wait` for the group to empty.
    pub fn kill(&self, wait: Duration) -> Result<(), CgroupError> {
        kill_group(&self.unified, wait)
    }

    /// Remove the groups, nested groups first (an init such as systemd
    /// makes its own inside the zone's). A group is busy while the last of
    /// the zone's processes are still being torn down after init died (the
    /// kernel kills the rest of the pid namespace then), so a busy one is
    /// retried for up to a second. A group already gone is what we want.
    pub fn remove(&self) -> Result<(), CgroupError> {
        let mut first = Ok(());
        for dir in self.v1.iter().chain(std::iter::once(&self.unified)) {
            if let Err(e) = remove_tree(dir) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// How many times the memory cap's OOM killer has killed in the zone.
    pub fn oom_kills(&self) -> u64 {
        self.v1
            .iter()
            .find(|d| d.starts_with(mount_of("memory")))
            .and_then(|d| std::fs::read_to_string(d.join("memory.oom_control")).ok())
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("oom_kill ")?.trim().parse().ok())
            })
            .unwrap_or(0)
    }
}

/// Whether cgroup2 group `dir` has processes (`populated 1` in
/// `cgroup.events`, which counts nested groups too). A group that does not
/// exist has none.
pub fn populated(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.events"))
        .map(|t| t.lines().any(|l| l.trim() == "populated 1"))
        .unwrap_or(false)
}

fn kill_group(dir: &Path, wait: Duration) -> Result<(), CgroupError> {
    if !dir.is_dir() {
        return Ok(());
    }
    match std::fs::write(dir.join("cgroup.kill"), "1") {
        Ok(()) => {}
        // Removed since we looked: nothing left to kill.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(&dir.join("cgroup.kill"))(e)),
    }
    let started = Instant::now();
    while populated(dir) {
        if started.elapsed() > wait {
            return Err(CgroupError::StillPopulated {
                path: dir.to_path_buf(),
                waited: wait,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// Remove cgroup directory `dir` and every group nested in it, deepest
/// first.
pub fn remove_tree(dir: &Path) -> Result<(), CgroupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    let started = Instant::now();
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e)
                if e.raw_os_error() == Some(libc::EBUSY)
                    && started.elapsed() < Duration::from_secs(1) =>
            {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => return Err(io(dir)(e)),
        }
    }
}

/// Create the zone's cgroups, set its caps and its device allowlist.
pub fn prepare(uuid: &str, m: &Manifest, devices: &[Device]) -> Result<ZoneCgroups, CgroupError> {
    let made = (|| {
        set_caps(uuid, m)?;
        let devs = group("devices", uuid)?;
        // Nothing, then each allowed device: a new group inherits its
        // parent's (everything). One rule a write, through one open.
        write(&devs, "devices.deny", "a")?;
        let allow = devs.join("devices.allow");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&allow)
            .map_err(io(&allow))?;
        for d in devices {
            use std::io::Write;
            f.write_all(d.rule().as_bytes()).map_err(io(&allow))?;
        }
        group("unified", uuid)?;
        Ok(of(uuid))
    })();
    if made.is_err() {
        let _ = of(uuid).remove();
    }
    made
}

/// Set the caps of `m` on zone `uuid`'s groups (made if missing): at boot,
/// and when `vmadm update` changes a running zone.
pub fn set_caps(uuid: &str, m: &Manifest) -> Result<(), CgroupError> {
    let cpu = group("cpu", uuid)?;
    write(&cpu, "cpu.cfs_period_us", &CFS_PERIOD_US.to_string())?;
    let quota = match m.cpu_cap {
        // cpu_cap is a percentage of one CPU.
        Some(cap) => (CFS_PERIOD_US * cap / 100).max(1000).to_string(),
        None => "-1".into(),
    };
    write(&cpu, "cpu.cfs_quota_us", &quota)?;
    if let Some(shares) = m.cpu_shares {
        write(&cpu, "cpu.shares", &shares.max(2).to_string())?;
    }
    let memory = group("memory", uuid)?;
    // Memory plus swap: max_swap, or as SmartOS defaults it, the memory
    // cap itself (no swapping past the cap). Only where swap accounting
    // is on; elsewhere max_swap is not enforced.
    let memsw = m
        .max_swap
        .or(m.max_physical_memory)
        .filter(|_| memory.join("memory.memsw.limit_in_bytes").exists());
    // The kernel keeps memory ≤ memory+swap at every step (EINVAL
    // otherwise), so a raise sets memory+swap first and a cut sets
    // memory first; an update of a live zone may do either.
    let current = std::fs::read_to_string(memory.join("memory.limit_in_bytes"))
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    let set_memsw = |mib: u64| {
        write(
            &memory,
            "memory.memsw.limit_in_bytes",
            &(mib << 20).to_string(),
        )
    };
    let raise = memsw.is_some_and(|mib| mib << 20 >= current);
    if raise {
        if let Some(mib) = memsw {
            set_memsw(mib)?;
        }
    }
    if let Some(mib) = m.max_physical_memory {
        write(&memory, "memory.limit_in_bytes", &(mib << 20).to_string())?;
    }
    if !raise {
        if let Some(mib) = memsw {
            set_memsw(mib)?;
        }
    }
    let pids = group("pids", uuid)?;
    write(
        &pids,
        "pids.max",
        &m.max_lwps
            .map_or_else(|| "max".to_string(), |n| n.to_string()),
    )?;
    Ok(())
}

/// Open the `tasks` files of the v1 groups `dirs`, for [`join_self`].
pub fn open_tasks(dirs: &[PathBuf]) -> Result<Vec<std::fs::File>, CgroupError> {
    dirs.iter()
        .map(|d| {
            let path = d.join("tasks");
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))
        })
        .collect()
}

/// Move the calling thread into the v1 groups whose `tasks` files are
/// `tasks`. Only for a single-threaded process (then the thread is the
/// process): a thread moving itself, "0" to `tasks`, is the one move the
/// kernel makes without taking `cgroup_threadgroup_rwsem` for writing,
/// which costs an RCU grace period (5–30 ms here); writing a pid to
/// `cgroup.procs` always takes it. The kernel checks the credentials the
/// files were opened with, so a process that has since entered the zone's
/// user namespace may still do this with files the host's root opened.
pub fn join_self(tasks: &[std::fs::File]) -> std::io::Result<()> {
    use std::io::Write;
    for mut f in tasks {
        f.write_all(b"0")?;
    }
    Ok(())
}

/// Zone `uuid`'s cgroup directories (as [`prepare`] makes them; not
/// checked).
pub fn of(uuid: &str) -> ZoneCgroups {
    let dir = |name: &str| mount_of(name).join("lumen").join(uuid);
    ZoneCgroups {
        v1: V1.iter().map(|name| dir(name)).collect(),
        unified: dir("unified"),
    }
}

/// The cgroup2 group of zone `uuid`'s supervisor: every process that
/// boots or watches the zone from the host runs in it, so a `kill -9` of
/// `vmadm` half way through leaves nothing that cannot be found.
#[derive(Debug, Clone)]
pub struct SupervisorGroup {
    /// Its directory.
    pub dir: PathBuf,
}

impl SupervisorGroup {
    /// Zone `uuid`'s supervisor group (not made).
    pub fn of(uuid: &str) -> SupervisorGroup {
        SupervisorGroup {
            dir: Path::new(UNIFIED).join(SUPERVISORS).join(uuid),
        }
    }

    /// Make it.
    pub fn create(&self) -> Result<(), CgroupError> {
        if !Path::new(UNIFIED).is_dir() {
            return Err(CgroupError::NotMounted {
                name: "cgroup2".into(),
                mount: UNIFIED.into(),
            });
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))
    }

    /// Whether a supervisor runs in it.
    pub fn populated(&self) -> bool {
        populated(&self.dir)
    }

    /// Kill what runs in it and remove it. A supervisor that a killed
    /// `vmadm` was still starting may join the group after the kill: it
    /// is killed again until the group goes.
    pub fn kill_and_remove(&self, wait: Duration) -> Result<(), CgroupError> {
        let started = Instant::now();
        loop {
            kill_group(&self.dir, wait)?;
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) && started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => return Err(io(&self.dir)(e)),
            }
        }
    }

    /// The calling process leaves the group (for the root group), so the
    /// group can go: the supervisor's last act.
    pub fn leave(&self) -> Result<(), CgroupError> {
        let procs = Path::new(UNIFIED).join("cgroup.procs");
        std::fs::write(&procs, "0").map_err(io(&procs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_groups_go_with_their_parent() {
        if !Path::new(UNIFIED).join("cgroup.procs").exists()
            // SAFETY: geteuid has no preconditions.
            || unsafe { libc::geteuid() } != 0
        {
            // CI runs as root on a host with cgroup2: never skip there.
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "needs root and cgroup2 at {UNIFIED}"
            );
            return;
        }
        let dir = Path::new(UNIFIED).join(format!("lumen-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b/c")).expect("nested groups");
        std::fs::create_dir_all(dir.join("d")).expect("a sibling");
        remove_tree(&dir).expect("remove");
        assert!(!dir.exists());
        // Gone already is fine.
        remove_tree(&dir).expect("again");
    }

    #[test]
    fn a_group_that_does_not_exist_is_not_populated() {
        assert!(!populated(Path::new("/nonexistent/group")));
    }
}
