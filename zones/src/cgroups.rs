//! A zone's resource caps: cgroup v1 `cpu`, `memory` and `pids`
//! controllers as this host mounts them under `/sys/fs/cgroup/NAME`, and a
//! cgroup2 group under `/sys/fs/cgroup/unified` that names the zone to BPF
//! (`bpf_get_current_cgroup_id`). Each is `lumen/UUID`.

use crate::manifest::Manifest;
use crate::registry::RegistryError;
use std::path::{Path, PathBuf};

/// Where the controllers are mounted.
const ROOT: &str = "/sys/fs/cgroup";
/// The cgroup2 hierarchy next to them.
const UNIFIED: &str = "/sys/fs/cgroup/unified";
/// The v1 controllers a zone is capped by.
const V1: [&str; 3] = ["cpu", "memory", "pids"];
/// CFS period for `cpu_cap` (100 ms, the kernel's default).
const CFS_PERIOD_US: u64 = 100_000;

fn cg_err(msg: String) -> RegistryError {
    RegistryError::Cgroup(msg)
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), RegistryError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|e| cg_err(format!("cannot set {}: {e}", path.display())))
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
fn group(name: &str, uuid: &str) -> Result<PathBuf, RegistryError> {
    let mount = mount_of(name);
    if !mount.is_dir() {
        return Err(cg_err(format!(
            "the {name} cgroup controller is not mounted at {} (zones need it)",
            mount.display()
        )));
    }
    let dir = mount.join("lumen").join(uuid);
    std::fs::create_dir_all(&dir)
        .map_err(|e| cg_err(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// A zone's cgroup directories, created and capped.
#[derive(Debug, Clone)]
pub struct ZoneCgroups {
    /// The v1 controllers' groups (`cpu`, `memory`, `pids`). Init joins
    /// them itself, writing 0 to each `tasks` file (see [`join_self`]).
    pub v1: Vec<PathBuf>,
    /// The cgroup2 group: init is cloned straight into it.
    pub unified: PathBuf,
}

impl ZoneCgroups {
    /// Remove the groups. A group is busy while the last of the zone's
    /// processes are still being torn down after init died (the kernel
    /// kills the rest of the pid namespace then), so a busy one is retried
    /// for up to a second; other errors are ignored: a group already gone
    /// is what we want.
    pub fn remove(&self) {
        for dir in self.v1.iter().chain(std::iter::once(&self.unified)) {
            for _ in 0..100 {
                match std::fs::remove_dir(dir) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(10))
                    }
                    _ => break,
                }
            }
        }
    }
}

/// Create the zone's cgroups and set its caps.
pub fn prepare(uuid: &str, m: &Manifest) -> Result<ZoneCgroups, RegistryError> {
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
    let unified = group("unified", uuid)?;
    Ok(ZoneCgroups {
        v1: vec![cpu, memory, pids],
        unified,
    })
}

/// Open the `tasks` files of the v1 groups `dirs`, for [`join_self`].
pub fn open_tasks(dirs: &[PathBuf]) -> Result<Vec<std::fs::File>, RegistryError> {
    dirs.iter()
        .map(|d| {
            let path = d.join("tasks");
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| cg_err(format!("cannot open {}: {e}", path.display())))
        })
        .collect()
}

/// Move the calling thread into the v1 groups whose `tasks` files are
/// `tasks`. Only for a single-threaded process (then the thread is the
/// process): a thread moving itself, "0" to `tasks`, is the one move the
/// kernel makes without taking `cgroup_threadgroup_rwsem` for writing,
/// which costs an RCU grace period (5–30 ms here); writing a pid to
/// `cgroup.procs` always takes it.
pub fn join_self(tasks: &[std::fs::File]) -> std::io::Result<()> {
    use std::io::Write;
    for mut f in tasks {
        f.write_all(b"0")?;
    }
    Ok(())
}

/// Zone `uuid`'s cgroup directories (as [`prepare`] makes them; not
/// checked), for `zlogin` to join.
pub fn of(uuid: &str) -> ZoneCgroups {
    let dir = |name: &str| mount_of(name).join("lumen").join(uuid);
    ZoneCgroups {
        v1: V1.iter().map(|name| dir(name)).collect(),
        unified: dir("unified"),
    }
}
