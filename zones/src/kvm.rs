//! `kvm`-brand zones: a hardware VM is a zone whose init is Lumen's VMM
//! (`lumen vmm`), as on SmartOS, where a KVM VM's qemu runs in its zone.
//! The zone caps the VMM (and so the VM) like any zone's processes, and D
//! sees the VM's exits as the zone's (`zonename` is the VM's UUID).
//!
//! What the VMM needs from the host is bound into the zone under `/vm`: a
//! directory of the zone's own (`ZONE_DIR/vm`, holding `console.log`, the
//! console socket and the devices' counters, so the host reaches them), the `lumen` binary, the
//! kernel, initrd or payload, and each disk; `/dev/kvm` and `/dev/net/tun`
//! join the zone's `/dev` (see [`crate::devices`]). The VMM runs as the
//! zone's root, an unprivileged id on the host, so its directory and its
//! disks are given to that id ([`give_to_zone`]), as Firecracker's jailer
//! gives a microVM's files to the jail's user.

use crate::error::RegistryError;
use crate::manifest::{VmBoot, VmSpec};
use std::path::{Path, PathBuf};

/// Where a VM zone's files are, inside the zone.
pub const INSIDE: &str = "/vm";
/// The directory (under the zone's directory) bound at [`INSIDE`].
pub const HOST_DIR: &str = "vm";
/// The serial console's log, in that directory.
pub const CONSOLE_LOG: &str = "console.log";
/// The console socket, in that directory.
pub const CONSOLE_SOCKET: &str = "console.sock";
/// The virtio devices' counters, as JSON the VMM rewrites each second.
pub const METRICS: &str = "metrics.json";

pub use crate::rootfs::Bind;

/// How a VM zone boots: the VMM command, and what it needs bound in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmPlan {
    pub init: Vec<String>,
    pub binds: Vec<Bind>,
}

fn boot_err(what: String) -> RegistryError {
    RegistryError::Boot(crate::supervisor::BootError::Failed(what))
}

/// The disk image a sized disk without a path gets, in the zone's directory.
pub fn disk_image(zone_dir: &Path, index: usize) -> PathBuf {
    zone_dir.join("disks").join(format!("disk{index}.img"))
}

/// Make the disks of `spec` that do not exist yet, as `vmadm create` does
/// on SmartOS for a new VM: on the `zones` pool, volumes
/// `zones/UUID-diskN` (sparse, `size` MiB, or a clone of the disk's
/// image); without it, sparse files in the zone's directory. Returns
/// every disk's host path, in order.
pub fn create_disks(
    zone_dir: &Path,
    uuid: &str,
    spec: &VmSpec,
    pool: Option<&storage::pool::Pool>,
) -> Result<Vec<PathBuf>, RegistryError> {
    let mut paths = Vec::new();
    for (i, disk) in spec.disks.iter().enumerate() {
        if let Some(p) = &disk.path {
            paths.push(PathBuf::from(p));
            continue;
        }
        if let Some(pool) = pool {
            paths.push(crate::datasets::disk_volume(
                pool,
                uuid,
                i,
                disk.size,
                disk.image_uuid.as_deref(),
            )?);
            continue;
        }
        let path = disk_image(zone_dir, i);
        let size = disk.size.unwrap_or(0);
        if !path.exists() {
            let fail = |e: std::io::Error| boot_err(format!("disks[{i}]: {}: {e}", path.display()));
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            let file = std::fs::File::create(&path).map_err(fail)?;
            file.set_len(size << 20).map_err(fail)?;
        }
        paths.push(path);
    }
    Ok(paths)
}

/// The plan for booting `spec` in the zone at `zone_dir`, whose D zone id
/// (its cgroup2 group's id) is `zone_id`; `lumen` is the binary to run as
/// the VMM.
pub fn plan(
    zone_dir: &Path,
    zone_id: u64,
    spec: &VmSpec,
    disks: &[PathBuf],
    lumen: &Path,
) -> Result<VmPlan, RegistryError> {
    let host_dir = zone_dir.join(HOST_DIR);
    std::fs::create_dir_all(&host_dir)
        .map_err(|e| boot_err(format!("{}: {e}", host_dir.display())))?;
    let inside = |name: &str| format!("{INSIDE}/{name}");
    let mut binds = vec![
        Bind {
            host: host_dir,
            inside: INSIDE.into(),
            read_only: false,
        },
        Bind {
            host: lumen.to_owned(),
            inside: inside("lumen"),
            read_only: true,
        },
    ];
    let mut file =
        |field: &str, host: &str, name: &str, read_only: bool| -> Result<String, RegistryError> {
            let host = PathBuf::from(host);
            if !host.is_file() {
                return Err(boot_err(format!(
                    "$.{field}: {} is not a file",
                    host.display()
                )));
            }
            binds.push(Bind {
                host,
                inside: inside(name),
                read_only,
            });
            Ok(inside(name))
        };
    let mut init = vec![inside("lumen"), "vmm".into()];
    match &spec.boot {
        VmBoot::Kernel { kernel, initrd } => {
            init.extend(["--kernel".into(), file("kernel", kernel, "kernel", true)?]);
            if let Some(initrd) = initrd {
                init.extend(["--initrd".into(), file("initrd", initrd, "initrd", true)?]);
            }
        }
        VmBoot::Payload { payload } => {
            init.extend([
                "--payload".into(),
                file("payload", payload, "payload", true)?,
            ]);
        }
    }
    for (i, disk) in spec.disks.iter().enumerate() {
        let host = disks
            .get(i)
            .map(|p| p.to_string_lossy().into_owned())
            .ok_or_else(|| boot_err(format!("disks[{i}]: not made")))?;
        let at = file(
            &format!("disks[{i}].path"),
            &host,
            &format!("disk{i}"),
            disk.read_only,
        )?;
        let mut arg = at;
        if disk.read_only {
            arg.push_str(",ro");
        }
        if let Some(c) = &disk.cache {
            arg.push_str(&format!(",cache={c}"));
        }
        init.push("--disk".into());
        init.push(arg);
    }
    let mut tap_fd = crate::init::TAP_FDS;
    for nic in &spec.nics {
        // A NIC with a nic tag is a tap the supervisor made on the host's
        // etherstub and hands down at a known descriptor; one without is
        // a tap of the zone's own, made by the VMM.
        let tap = if nic.nic_tag.is_some() {
            tap_fd += 1;
            format!("fd:{}", tap_fd - 1)
        } else {
            nic.interface.clone()
        };
        init.push("--tap".into());
        init.push(match &nic.mac {
            Some(mac) => format!("{tap},mac={mac}"),
            None => tap,
        });
    }
    init.extend([
        "--ram".into(),
        spec.ram.to_string(),
        "--vcpus".into(),
        spec.vcpus.to_string(),
        "--boot-args".into(),
        spec.boot_args.clone(),
        "--console".into(),
        inside(CONSOLE_LOG),
        "--console-socket".into(),
        inside(CONSOLE_SOCKET),
        "--metrics".into(),
        inside(METRICS),
        "--id".into(),
        zone_id.to_string(),
    ]);
    Ok(VmPlan { init, binds })
}

/// Give what the VMM writes to the zone's root (host id `owner`): its
/// directory under the zone's (console log and socket) and every disk
/// it may write. Read-only images stay the host's: the zone only needs
/// to read them, and binds keep them read-only.
pub fn give_to_zone(
    zone_dir: &Path,
    spec: &VmSpec,
    disks: &[PathBuf],
    owner: u32,
) -> Result<(), RegistryError> {
    let chown = |path: &Path| {
        std::os::unix::fs::chown(path, Some(owner), Some(owner))
            .map_err(|e| boot_err(format!("giving {} to the zone: {e}", path.display())))
    };
    chown(&zone_dir.join(HOST_DIR))?;
    for (disk, path) in spec.disks.iter().zip(disks) {
        if disk.read_only {
            continue;
        }
        if path.starts_with(zone_dir.join("disks")) {
            chown(&zone_dir.join("disks"))?;
        }
        chown(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    #[test]
    fn a_payload_vm_runs_the_vmm_on_its_bound_files() {
        let dir = tempfile::tempdir().unwrap();
        let payload = dir.path().join("guest.bin");
        std::fs::write(&payload, [0xf4]).unwrap();
        let m = Manifest::parse(&format!(
            r#"{{"brand": "kvm", "ram": 64, "vcpus": 2, "payload": "{}", "boot_args": "count=3",
                "disks": [{{"size": 1}}], "nics": [{{"mac": "02:00:00:00:00:07"}}]}}"#,
            payload.display()
        ))
        .unwrap();
        let spec = m.vm.as_ref().unwrap();
        assert_eq!(
            m.max_physical_memory,
            Some(64 + crate::manifest::VMM_MEMORY_OVERHEAD)
        );
        let zone = dir.path().join("zone");
        let disks = create_disks(&zone, &m.uuid, spec, None).unwrap();
        assert_eq!(disks, [disk_image(&zone, 0)]);
        assert_eq!(
            std::fs::metadata(disk_image(&zone, 0)).unwrap().len(),
            1 << 20
        );
        let plan = plan(&zone, 42, spec, &disks, Path::new("/proc/self/exe")).unwrap();
        assert_eq!(
            plan.init.join(" "),
            "/vm/lumen vmm --payload /vm/payload --disk /vm/disk0 --tap net0,mac=02:00:00:00:00:07 \
             --ram 64 --vcpus 2 --boot-args count=3 --console /vm/console.log \
             --console-socket /vm/console.sock --metrics /vm/metrics.json --id 42"
        );
        let inside: Vec<&str> = plan.binds.iter().map(|b| b.inside.as_str()).collect();
        assert_eq!(inside, ["/vm", "/vm/lumen", "/vm/payload", "/vm/disk0"]);
        assert!(!plan.binds[3].read_only);
    }

    #[test]
    fn a_missing_image_names_its_field() {
        let m = Manifest::parse(r#"{"brand": "kvm", "kernel": "/nonexistent/vmlinuz"}"#).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = plan(
            dir.path(),
            1,
            m.vm.as_ref().unwrap(),
            &[],
            Path::new("/bin/true"),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("$.kernel: /nonexistent/vmlinuz is not a file"),
            "{e}"
        );
    }
}
