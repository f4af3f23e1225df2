//! A zone's life, as `vmadm` drives it: create (and boot), boot, stop,
//! reboot, delete, log in. Each holds the locks the registry describes,
//! and none trusts a pid from a file: processes are reached through
//! pidfds checked against their recorded start time, and a zone whose
//! supervisor died is found, and stopped, through its cgroups.

use crate::cgroups::{self, SupervisorGroup};
use crate::manifest::Manifest;
use crate::privileges::Privileges;
use crate::registry::{fire, host_memory_mib, Registry, RegistryError, Zone, ZoneState};
use crate::rootfs::RootPlan;
use crate::supervisor::{self, BootPlan};
use std::time::{Duration, Instant};

/// How long a stop waits for the zone to empty after killing it, and
/// for its supervisor to say so.
const STOP_SETTLE: Duration = Duration::from_secs(10);

impl Registry {
    /// `vmadm create`: create a zone from a manifest's text and, unless
    /// the manifest says `"autoboot": false`, boot it, as SmartOS's does.
    /// All or nothing, even under `kill -9`: the zone stays marked as
    /// being created until it has booted, and a marked zone is swept away
    /// by the next command. The zone, and its init's host pid if booted.
    pub fn provision(&self, text: &str) -> Result<(Zone, Option<i32>), RegistryError> {
        let manifest = Manifest::parse(text)?;
        manifest.check_host(host_memory_mib())?;
        let uuid = manifest.uuid.clone();
        // The registry's lock from creation to running: nobody sees the
        // zone half made, or deletes it under the boot, and a sweep never
        // mistakes it for debris.
        let _registry = self.lock_registry()?;
        let mut zone = self.create_locked(manifest)?;
        let booted = if zone.manifest.autoboot {
            let zone_lock = self.lock_zone_any(&uuid)?;
            match self.boot_locked(&uuid, &zone.manifest) {
                Ok(pid) => {
                    zone.state = ZoneState::Running;
                    Some((pid, zone_lock))
                }
                Err(e) => {
                    let _ = self.destroy_locked(&uuid);
                    return Err(e);
                }
            }
        } else {
            None
        };
        if let Err(e) = self.mark_created(&uuid) {
            let _ = self.destroy_locked(&uuid);
            return Err(e);
        }
        Ok((zone, booted.map(|(pid, _)| pid)))
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

    /// Boot a stopped zone (see [`crate::supervisor`]).
    pub fn start(&self, uuid: &str) -> Result<i32, RegistryError> {
        self.boot(uuid)
    }

    /// Boot stopped zone `uuid` with manifest `m`, its lock held.
    fn boot_locked(&self, uuid: &str, m: &Manifest) -> Result<i32, RegistryError> {
        // What a zone whose supervisor died left: groups, records.
        self.clear_remains(uuid)?;
        let ids = self.ids(uuid)?;
        let zone_dir = self.zone_dir(uuid);
        let devices = crate::devices::allowed(m.vm.is_some());
        let cgroups = cgroups::prepare(uuid, m, &devices)?;
        let supervisor_group = SupervisorGroup::of(uuid);
        let planned = (|| {
            supervisor_group.create()?;
            let (init, binds) = match &m.vm {
                Some(spec) => {
                    // The VMM's `vm` probe argument is the zone's id in D:
                    // its cgroup2 group's id, which is the directory's inode.
                    let zone_id = std::fs::metadata(&cgroups.unified)
                        .map(|md| std::os::unix::fs::MetadataExt::ino(&md))
                        .map_err(|e| boot_err(format!("{}: {e}", cgroups.unified.display())))?;
                    let lumen = std::env::current_exe()
                        .map_err(|e| boot_err(format!("finding the lumen binary: {e}")))?;
                    let pool = self.pool()?;
                    let disks = crate::kvm::create_disks(&zone_dir, uuid, spec, pool.as_ref())?;
                    let p = crate::kvm::plan(&zone_dir, zone_id, spec, &disks, &lumen)?;
                    crate::kvm::give_to_zone(&zone_dir, spec, &disks, ids.host_id(0))?;
                    (p.init, p.binds)
                }
                None => (
                    m.init.clone().unwrap_or_else(|| vec!["/sbin/init".into()]),
                    Vec::new(),
                ),
            };
            let plan = BootPlan {
                uuid: uuid.to_string(),
                zone_dir: zone_dir.clone(),
                root: RootPlan {
                    root: zone_dir.join("root"),
                    hostname: m.hostname(),
                    ids,
                    tmpfs_mib: m.tmpfs.or(m.max_physical_memory),
                    devices: devices.clone(),
                    binds,
                    idmapped: zone_dir.join(crate::datasets::IDMAPPED).exists(),
                    delegated: (m.delegate_dataset && zone_dir.join("data").is_dir())
                        .then(|| (zone_dir.join("data"), format!("/zones/{uuid}/data"))),
                },
                init,
                cgroups: cgroups.clone(),
                supervisor: supervisor_group.clone(),
                privileges: Privileges::new(m.privileges())?,
                zsched: Privileges::zsched()?,
                nics: crate::network::plan(self.root(), m.all_nics())?,
                vm: m.vm.is_some(),
            };
            Ok::<_, RegistryError>(plan)
        })();
        let booted = planned.and_then(|plan| Ok(supervisor::boot(&plan)?));
        match booted {
            Ok(pid) => {
                fire(uuid, |_, name| probes::zone::boot(|| (pid as u64, name)));
                Ok(pid)
            }
            Err(e) => {
                // The supervisor removes the zone's groups when init fails;
                // not when it never ran.
                let _ = supervisor_group.kill_and_remove(Duration::from_secs(2));
                let _ = cgroups.remove();
                Err(e)
            }
        }
    }

    /// Before a boot: remove what a zone that stopped without its
    /// supervisor left behind (its processes are all gone).
    fn clear_remains(&self, uuid: &str) -> Result<(), RegistryError> {
        let zone = cgroups::of(uuid);
        if zone.populated() {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: ZoneState::Running,
                action: "boot: processes of its last boot still run (stop it first)",
            });
        }
        zone.remove()?;
        SupervisorGroup::of(uuid).kill_and_remove(Duration::from_secs(2))?;
        Ok(())
    }

    /// Stop and boot again.
    pub fn reboot(&self, uuid: &str) -> Result<i32, RegistryError> {
        let _lock = self.lock_zone(uuid)?;
        self.halt_locked(uuid, false, Duration::from_secs(5))?;
        let zone = self.get(uuid)?;
        self.boot_locked(uuid, &zone.manifest)
    }

    /// Stop a running zone: SIGTERM to its init (which passes it to the
    /// zone's init command), every process of the zone killed through its
    /// cgroup after `grace` (at once with `force`); returns once the zone
    /// is stopped. Works whether or not the zone's supervisor still lives.
    pub fn halt(&self, uuid: &str, force: bool, grace: Duration) -> Result<(), RegistryError> {
        let _lock = self.lock_zone(uuid)?;
        self.halt_locked(uuid, force, grace)
    }

    fn halt_locked(&self, uuid: &str, force: bool, grace: Duration) -> Result<(), RegistryError> {
        let zone = self.get(uuid)?;
        if zone.state == ZoneState::Stopped {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "stop a stopped zone",
            });
        }
        let dir = self.zone_dir(uuid);
        // So the supervisor records the end as a stop, not a crash.
        let _ = std::fs::write(dir.join(supervisor::HALTING), "");
        let cgroups = cgroups::of(uuid);
        let supervisor = self.supervisor(uuid);
        let init_id = self.process_id(uuid, supervisor::INIT);
        let mut killed = false;
        if force {
            let _ = cgroups.kill(Duration::ZERO);
            killed = true;
        } else if let Some(init) = self.process(uuid, supervisor::INIT) {
            let _ = init.signal(libc::SIGTERM);
        }
        let started = Instant::now();
        loop {
            match &supervisor {
                // Its own word, not the cgroup test: it removes the groups
                // first and writes "stopped" last, and a start must not
                // race that last write.
                Some(s) if s.alive() => {
                    if self.recorded_state(uuid)? == ZoneState::Stopped {
                        break;
                    }
                }
                _ => {
                    if !cgroups.populated() {
                        self.stopped_without_supervisor(uuid)?;
                        break;
                    }
                }
            }
            if !killed && started.elapsed() >= grace {
                // An init that ignores SIGTERM, or a zone whose init is
                // gone but whose other processes stay.
                let _ = cgroups.kill(Duration::ZERO);
                killed = true;
            }
            if started.elapsed() > grace + STOP_SETTLE {
                return Err(RegistryError::Stop {
                    uuid: uuid.into(),
                    why: format!("still running {:?} after it was killed", STOP_SETTLE),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = init_id.map_or(0, |p| p.pid as u64);
        fire(uuid, |_, name| probes::zone::halt(|| (pid, name)));
        Ok(())
    }

    /// Finish a stop that no supervisor will record: its groups, records
    /// and the reason.
    fn stopped_without_supervisor(&self, uuid: &str) -> Result<(), RegistryError> {
        cgroups::of(uuid).remove()?;
        crate::network::teardown(uuid)?;
        SupervisorGroup::of(uuid).kill_and_remove(Duration::from_secs(2))?;
        let dir = self.zone_dir(uuid);
        supervisor::record_exit(
            &dir,
            -1,
            "stopped by vmadm; its supervisor had died, so its processes were killed \
             through its cgroup and its init's status is unknown",
        );
        for f in [
            supervisor::INIT,
            supervisor::COMMAND,
            supervisor::SUPERVISOR,
            supervisor::HALTING,
        ] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        // A zone that filled its dataset's quota cannot take even this
        // record; it reads stopped all the same (nothing of it runs).
        let _ = std::fs::write(dir.join(supervisor::STATE), "stopped\n");
        Ok(())
    }

    /// Delete a zone, stopping it first if it runs (as SmartOS's `vmadm
    /// delete` does).
    pub fn delete(&self, uuid: &str) -> Result<(), RegistryError> {
        let _registry = self.lock_registry()?;
        let _zone = self.lock_zone(uuid)?;
        let zone = self.get(uuid)?;
        if zone.manifest.quota.is_some() {
            // A zone at its quota cannot record its own stop: the quota
            // goes first, the dataset with it a moment later.
            if let Some(pool) = self.pool()? {
                if crate::datasets::is_dataset(&pool, uuid) {
                    crate::datasets::set_quota(&pool, uuid, None)?;
                }
            }
        }
        if zone.state == ZoneState::Running {
            self.halt_locked(uuid, true, Duration::ZERO)?;
        }
        self.destroy_locked(uuid)
    }

    /// Remove zone `uuid` and everything of it — processes, cgroups,
    /// supervisor, directory — whatever state it is in; the registry's
    /// lock and the zone's are held.
    pub(crate) fn destroy_locked(&self, uuid: &str) -> Result<(), RegistryError> {
        // The supervisor first, so it does not write into a directory
        // being removed, then the zone.
        SupervisorGroup::of(uuid).kill_and_remove(Duration::from_secs(2))?;
        let zone = cgroups::of(uuid);
        zone.kill(Duration::from_secs(2))?;
        zone.remove()?;
        self.remove_locked(uuid)
    }

    /// Run a command in a running zone, under the zone's ids, caps and
    /// privileges; its exit status.
    pub fn login(
        &self,
        uuid: &str,
        command: &[String],
        terminal: bool,
    ) -> Result<i32, RegistryError> {
        let zone = self.get(uuid)?;
        if zone.state != ZoneState::Running {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "log in to a stopped zone",
            });
        }
        let init = self
            .process_id(uuid, supervisor::INIT)
            .ok_or_else(|| boot_err(format!("zone {uuid} has no init record")))?;
        let target = crate::zlogin::Target {
            init,
            cgroups: cgroups::of(uuid),
            ids: self.ids(uuid)?,
            privileges: Privileges::new(zone.manifest.privileges())?,
        };
        Ok(crate::zlogin::zlogin(&target, command, terminal)?)
    }

    /// The host pid of a running zone's init (its zsched).
    pub fn init_pid(&self, uuid: &str) -> Result<i32, RegistryError> {
        self.running_process(uuid, supervisor::INIT)
    }

    /// The host pid of a running zone's init command (a VM's VMM).
    pub fn command_pid(&self, uuid: &str) -> Result<i32, RegistryError> {
        self.running_process(uuid, supervisor::COMMAND)
    }

    fn running_process(&self, uuid: &str, record: &str) -> Result<i32, RegistryError> {
        let zone = self.get(uuid)?;
        if zone.state != ZoneState::Running {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "do that to a stopped zone",
            });
        }
        match (self.process_id(uuid, record), self.process(uuid, record)) {
            (Some(id), Some(_)) => Ok(id.pid),
            _ => Err(boot_err(format!(
                "zone {uuid}: its {record} process is gone"
            ))),
        }
    }
}

fn boot_err(what: String) -> RegistryError {
    RegistryError::Boot(supervisor::BootError::Failed(what))
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

    #[test]
    fn a_vm_bigger_than_the_host_is_refused_by_its_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let r = Registry::at(dir.path()).expect("registry");
        let e = r
            .provision(
                r#"{"brand": "kvm", "payload": "/p.bin", "ram": 1048576, "autoboot": false}"#,
            )
            .expect_err("too big");
        assert!(
            e.to_string()
                .contains("$.ram: 1048576 MiB is more than this host has"),
            "{e}"
        );
        assert!(r.list().expect("list").is_empty());
    }
}
