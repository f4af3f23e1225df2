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
/// CFS period for `cpu_cap` (100 ms, the kernel's default).
const CFS_PERIOD_US: u64 = 100_000;

fn cg_err(msg: String) -> RegistryError {
    RegistryError::Cgroup(msg)
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), RegistryError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|e| cg_err(format!("cannot set {}: {e}", path.display())))
}

/// The cgroup directory of controller `name` for zone `uuid`, created.
fn group(name: &str, uuid: &str) -> Result<PathBuf, RegistryError> {
    let mount = if name == "unified" {
        PathBuf::from(UNIFIED)
    } else {
        Path::new(ROOT).join(name)
    };
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

/// Create the zone's cgroups and set its caps; their directories, for
/// `cgroup.procs`.
pub fn prepare(uuid: &str, m: &Manifest) -> Result<Vec<PathBuf>, RegistryError> {
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
    if let Some(mib) = m.max_physical_memory {
        write(&memory, "memory.limit_in_bytes", &(mib << 20).to_string())?;
    }
    // Memory plus swap: max_swap, or as SmartOS defaults it, the memory
    // cap itself (no swapping past the cap). Only where swap accounting
    // is on; elsewhere max_swap is not enforced.
    if let Some(mib) = m.max_swap.or(m.max_physical_memory) {
        if memory.join("memory.memsw.limit_in_bytes").exists() {
            write(
                &memory,
                "memory.memsw.limit_in_bytes",
                &(mib << 20).to_string(),
            )?;
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
    Ok(vec![cpu, memory, pids, unified])
}

/// Move this process into zone `uuid`'s cgroups (zlogin, before it enters
/// the zone's namespaces, where the cgroup file systems are not mounted).
pub fn join(uuid: &str) -> Result<(), RegistryError> {
    let me = std::process::id().to_string();
    for name in ["cpu", "memory", "pids", "unified"] {
        let mount = if name == "unified" {
            PathBuf::from(UNIFIED)
        } else {
            Path::new(ROOT).join(name)
        };
        let dir = mount.join("lumen").join(uuid);
        write(&dir, "cgroup.procs", &me)?;
    }
    Ok(())
}
