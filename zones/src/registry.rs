//! The zone registry: one directory per zone under `LUMEN_ROOT/zones`
//! (`/var/lib/lumen` by default) holding its manifest, its id range, and
//! what its supervisor records, so zones outlive the tools that made them.
//!
//! Locks are `flock`s on directories, never lock files that could be left
//! behind: the `zones` directory's for changes to which zones exist
//! (create, delete, sweep), a zone's own directory's for changes to one
//! zone (boot, stop, update). Where both are held, the registry's is
//! taken first.
//!
//! A zone is built in a scratch directory and renamed into place with a
//! `creating` mark, which goes only when `create` (and the boot it asks
//! for) is done; a zone with the mark is not listed. Whatever a `kill -9`
//! leaves — a scratch directory, a marked zone, even a booted one — the
//! next command's [`Registry::sweep`] removes, so every zone is either
//! wholly made or absent.

pub use crate::error::{RegistryError, ZoneState};
use crate::ids::IdRange;
use crate::manifest::{Manifest, ManifestError};
use crate::supervisor;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Where zone state lives when `LUMEN_ROOT` is not set.
pub const DEFAULT_ROOT: &str = "/var/lib/lumen";
/// A zone's manifest.
const MANIFEST: &str = "manifest.json";
/// A zone's id range record.
const IDS: &str = "ids";
/// Present until `create` is done with the zone.
const CREATING: &str = "creating";

/// A zone as the registry knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its state.
    pub state: ZoneState,
}

/// The registry at a root directory.
#[derive(Debug, Clone)]
pub struct Registry {
    zones: PathBuf,
    /// The state directory (`LUMEN_ROOT`), where the `zones` pool's record is.
    root: PathBuf,
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive `flock` on a directory, released on drop (or when its
/// holder dies, however it dies).
pub(crate) struct DirLock(File);

impl DirLock {
    /// Lock `dir`, waiting for it; or, with `wait` false, None if it is
    /// held.
    fn take(dir: &Path, wait: bool) -> Result<Option<DirLock>, RegistryError> {
        let f = File::open(dir).map_err(io(dir))?;
        let op = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: flock on an fd we own.
            if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
                return Ok(Some(DirLock(f)));
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) if !wait => return Ok(None),
                _ => return Err(io(dir)(e)),
            }
        }
    }
}

impl Registry {
    /// The registry at `LUMEN_ROOT` (or [`DEFAULT_ROOT`]), swept of
    /// whatever interrupted commands left.
    pub fn open() -> Result<Registry, RegistryError> {
        let r = Registry::from_env()?;
        r.sweep()?;
        Ok(r)
    }

    /// The registry at `LUMEN_ROOT` (or [`DEFAULT_ROOT`]), not swept: for
    /// readers that look often (`lumen top`).
    pub fn from_env() -> Result<Registry, RegistryError> {
        let root =
            std::env::var_os("LUMEN_ROOT").map_or_else(|| DEFAULT_ROOT.into(), PathBuf::from);
        Registry::at(&root)
    }

    /// The registry under `root` (not swept).
    pub fn at(root: &Path) -> Result<Registry, RegistryError> {
        // The zones pool, where there is one, is mounted here first (after
        // a reboot, by the first command that opens the registry).
        crate::datasets::open(root)?;
        let zones = root.join("zones");
        fs::create_dir_all(&zones).map_err(io(&zones))?;
        Ok(Registry {
            zones,
            root: root.to_path_buf(),
        })
    }

    /// The `zones` pool, if the node has one.
    pub(crate) fn pool(&self) -> Result<Option<storage::pool::Pool>, RegistryError> {
        crate::datasets::open(&self.root)
    }

    /// The host path of VM `uuid`'s disk `index` (made by its first boot):
    /// its volume on the `zones` pool, or its file in the zone's directory.
    pub fn disk_path(&self, uuid: &str, index: usize) -> PathBuf {
        if let Ok(Some(pool)) = self.pool() {
            if let Ok(p) = crate::datasets::disk_dataset(uuid, index)
                .map_err(|_| ())
                .and_then(|d| pool.volume_file(&d).map_err(|_| ()))
            {
                return p;
            }
        }
        crate::kvm::disk_image(&self.zone_dir(uuid), index)
    }

    /// The state directory (`LUMEN_ROOT`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The zone's directory (manifest, records, logs, root).
    pub fn zone_dir(&self, uuid: &str) -> PathBuf {
        self.zones.join(uuid)
    }

    /// Hold the registry's lock: which zones exist changes only under it.
    pub(crate) fn lock_registry(&self) -> Result<DirLock, RegistryError> {
        DirLock::take(&self.zones, true)?.ok_or_else(|| RegistryError::Io {
            path: self.zones.clone(),
            source: std::io::Error::other("lock not taken"),
        })
    }

    /// Hold zone `uuid`'s lock. The name is checked before any path is
    /// made of it; a zone still being created (or left so by a killed
    /// `create`) is no zone.
    pub(crate) fn lock_zone(&self, uuid: &str) -> Result<DirLock, RegistryError> {
        let lock = self.lock_zone_any(uuid)?;
        if self.zone_dir(uuid).join(CREATING).exists() {
            return Err(RegistryError::NoSuchZone(uuid.to_string()));
        }
        Ok(lock)
    }

    /// [`Registry::lock_zone`], also for a zone still being created.
    pub(crate) fn lock_zone_any(&self, uuid: &str) -> Result<DirLock, RegistryError> {
        if !valid_name(uuid) {
            return Err(RegistryError::NoSuchZone(uuid.to_string()));
        }
        let dir = self.zone_dir(uuid);
        let lock = match DirLock::take(&dir, true) {
            Ok(l) => l.ok_or_else(|| RegistryError::NoSuchZone(uuid.to_string()))?,
            Err(RegistryError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(RegistryError::NoSuchZone(uuid.to_string()))
            }
            Err(e) => return Err(e),
        };
        // Deleted while we waited: the directory we hold is not in the
        // registry any more.
        let held = lock.0.metadata().map_err(io(&dir))?;
        match fs::metadata(&dir) {
            Ok(now) if same_file(&held, &now) => Ok(lock),
            _ => Err(RegistryError::NoSuchZone(uuid.to_string())),
        }
    }

    /// Create a zone from a manifest's text; it starts stopped, whatever
    /// its `autoboot` ([`Registry::provision`] is `vmadm create`, which
    /// boots it).
    pub fn create(&self, text: &str) -> Result<Zone, RegistryError> {
        let manifest = Manifest::parse(text)?;
        let _lock = self.lock_registry()?;
        let zone = self.create_locked(manifest)?;
        self.mark_created(&zone.manifest.uuid)?;
        Ok(zone)
    }

    /// Make zone directory `uuid` with its manifest and a fresh id range,
    /// marked as being created; the registry's lock is held by the caller.
    pub(crate) fn create_locked(&self, manifest: Manifest) -> Result<Zone, RegistryError> {
        let uuid = manifest.uuid.clone();
        let dir = self.zone_dir(&uuid);
        if fs::symlink_metadata(&dir).is_ok() {
            return Err(RegistryError::Exists(uuid));
        }
        let ids = IdRange::allocate(&self.id_ranges()?)?;
        let write_records = |dir: &Path| -> Result<(), RegistryError> {
            // Only the host's root may look inside: the zone's root
            // directory is reached by its init through mounts, never by
            // this path.
            set_mode(dir, 0o700)?;
            // Both written, then both synced: the first sync's journal
            // commit carries the second file too, so it costs one.
            let files = [
                write_unsynced(&dir.join(MANIFEST), &pretty(&manifest))?,
                write_unsynced(&dir.join(IDS), &ids.record())?,
            ];
            for (f, path) in &files {
                f.sync_all().map_err(io(path))?;
            }
            // Not synced: after a crash a zone whose mark was lost is a
            // stopped zone with its manifest and ids, which is whole.
            File::create(dir.join(CREATING)).map_err(io(dir))?;
            Ok(())
        };
        if let Some(pool) = self.pool()? {
            // The zone's directory is its dataset, made whole (records
            // and all) under a hidden name and then shown, as the storage
            // crate makes every dataset.
            crate::datasets::create_zone(&pool, &manifest, write_records)?;
            fire(&uuid, |id, name| probes::zone::create(|| (id, name)));
            return Ok(Zone {
                manifest,
                state: ZoneState::Stopped,
            });
        }
        crate::datasets::check_without_pool(&manifest)?;
        // Build it aside, then rename it into place: all or nothing.
        let scratch = self.zones.join(format!(".new-{uuid}"));
        let _ = fs::remove_dir_all(&scratch);
        let built = (|| {
            fs::create_dir(&scratch).map_err(io(&scratch))?;
            write_records(&scratch)?;
            // Its name in `zones/` is synced with the removal of the mark
            // (`mark_created`): until then, a crash may lose the zone,
            // which its create never reported made.
            fs::rename(&scratch, &dir).map_err(io(&dir))
        })();
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&scratch);
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
        fire(&uuid, |id, name| probes::zone::create(|| (id, name)));
        Ok(Zone {
            manifest,
            state: ZoneState::Stopped,
        })
    }

    /// `create` is done with zone `uuid`: from now on it is a zone, and
    /// survives a crash. The zone's directory is synced (the mark's
    /// removal), then `zones/` (the zone's name); a journalling file
    /// system commits both in the first sync, and the second finds
    /// nothing left to do.
    pub(crate) fn mark_created(&self, uuid: &str) -> Result<(), RegistryError> {
        let dir = self.zone_dir(uuid);
        let mark = dir.join(CREATING);
        fs::remove_file(&mark).map_err(io(&mark))?;
        sync_dir(&dir)?;
        sync_dir(&self.zones)
    }

    /// Every id range the registry's zones hold (the registry's lock held).
    fn id_ranges(&self) -> Result<Vec<IdRange>, RegistryError> {
        let mut taken = Vec::new();
        for e in fs::read_dir(&self.zones)
            .map_err(io(&self.zones))?
            .flatten()
        {
            let path = e.path().join(IDS);
            if path.exists() {
                taken.push(IdRange::read(&path)?);
            }
        }
        Ok(taken)
    }

    /// Zone `uuid`'s id range.
    pub fn ids(&self, uuid: &str) -> Result<IdRange, RegistryError> {
        Ok(IdRange::read(&self.zone_dir(uuid).join(IDS))?)
    }

    /// Remove zone `uuid`'s directory, the caller holding the registry's
    /// and the zone's locks and the zone stopped.
    pub(crate) fn remove_locked(&self, uuid: &str) -> Result<(), RegistryError> {
        let dir = self.zone_dir(uuid);
        let pool = self.pool()?;
        if let Some(pool) = pool
            .as_ref()
            .filter(|p| crate::datasets::is_dataset(p, uuid))
        {
            // The zone is a dataset: storage destroys it whole or not at
            // all (with its snapshots, delegated dataset and VM disks).
            crate::datasets::destroy_zone(pool, uuid)?;
            sync_dir(&self.zones)?;
            fire(uuid, |id, name| probes::zone::delete(|| (id, name)));
            return Ok(());
        }
        // Out of the registry in one rename, then emptied: a command
        // killed half way through the removal leaves a `.trash-` directory
        // for the next sweep, never a zone missing half its files.
        let trash = self.zones.join(format!(".trash-{uuid}"));
        let _ = fs::remove_dir_all(&trash);
        fs::rename(&dir, &trash).map_err(io(&dir))?;
        if let Some(pool) = &pool {
            // A VM's disks are datasets even where its zone is not.
            crate::datasets::destroy_zone(pool, uuid)?;
        }
        sync_dir(&self.zones)?;
        fire(uuid, |id, name| probes::zone::delete(|| (id, name)));
        fs::remove_dir_all(&trash).map_err(io(&trash))
    }

    /// The zone with this UUID.
    pub fn get(&self, uuid: &str) -> Result<Zone, RegistryError> {
        let dir = self.zone_dir(uuid);
        // An image's dataset sits beside the zones, with no manifest.
        if !valid_name(uuid)
            || !dir.is_dir()
            || dir.join(CREATING).exists()
            || !dir.join(MANIFEST).exists()
        {
            return Err(RegistryError::NoSuchZone(uuid.to_string()));
        }
        let path = dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let manifest = Manifest::parse(&text)?;
        let state = self.state(uuid)?;
        Ok(Zone { manifest, state })
    }

    /// Whether zone `uuid` runs: its supervisor said so, and either its
    /// processes are there or its supervisor still is. A "running" whose
    /// zone and supervisor are both gone (a host crash: cgroupfs does not
    /// survive one) is stopped.
    fn state(&self, uuid: &str) -> Result<ZoneState, RegistryError> {
        if self.recorded_state(uuid)? == ZoneState::Stopped {
            return Ok(ZoneState::Stopped);
        }
        if crate::cgroups::of(uuid).populated() || self.supervisor(uuid).is_some() {
            Ok(ZoneState::Running)
        } else {
            Ok(ZoneState::Stopped)
        }
    }

    /// The state the supervisor last wrote (stopped if it never wrote one).
    pub(crate) fn recorded_state(&self, uuid: &str) -> Result<ZoneState, RegistryError> {
        let state_path = self.zone_dir(uuid).join(supervisor::STATE);
        match fs::read_to_string(&state_path) {
            Ok(s) if s.trim() == "running" => Ok(ZoneState::Running),
            Ok(_) => Ok(ZoneState::Stopped),
            // Never booted.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ZoneState::Stopped),
            Err(e) => Err(io(&state_path)(e)),
        }
    }

    /// A process the zone's supervisor recorded (`INIT`, `COMMAND`,
    /// `SUPERVISOR`), if it is still that process.
    pub(crate) fn process(&self, uuid: &str, record: &str) -> Option<crate::process::Pidfd> {
        let text = fs::read_to_string(self.zone_dir(uuid).join(record)).ok()?;
        crate::process::ProcessId::parse(&text).ok()?.open().ok()?
    }

    /// The recorded identity of one of the zone's processes.
    pub(crate) fn process_id(&self, uuid: &str, record: &str) -> Option<crate::process::ProcessId> {
        let text = fs::read_to_string(self.zone_dir(uuid).join(record)).ok()?;
        crate::process::ProcessId::parse(&text).ok()
    }

    /// The zone's supervisor, if it lives.
    pub(crate) fn supervisor(&self, uuid: &str) -> Option<crate::process::Pidfd> {
        self.process(uuid, supervisor::SUPERVISOR)
    }

    /// How the zone last stopped (`exit_status`, `exit_timestamp`,
    /// `exit_reason`), if it ever has.
    pub fn exit_record(&self, uuid: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let text = fs::read_to_string(self.zone_dir(uuid).join(supervisor::EXIT)).ok()?;
        match serde_json::from_str(&text).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Every zone, by UUID.
    pub fn list(&self) -> Result<Vec<Zone>, RegistryError> {
        let mut names: Vec<String> = fs::read_dir(&self.zones)
            .map_err(io(&self.zones))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| valid_name(n))
            .collect();
        names.sort();
        let mut zones = Vec::new();
        for n in names {
            match self.get(&n) {
                Ok(z) => zones.push(z),
                // Being created, or deleted, since we read the directory.
                Err(RegistryError::NoSuchZone(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(zones)
    }

    /// Change fields of a zone's manifest (`vmadm update`): `changes` is a
    /// JSON object merged over the manifest and checked as a whole. A
    /// running zone's caps change at once.
    pub fn update(&self, uuid: &str, changes: &serde_json::Value) -> Result<Zone, RegistryError> {
        let _lock = self.lock_zone(uuid)?;
        let zone = self.get(uuid)?;
        let serde_json::Value::Object(changes) = changes else {
            return Err(RegistryError::Manifest(ManifestError {
                problems: vec!["$: expected an object of fields to change".into()],
            }));
        };
        if let Some(u) = changes.get("uuid") {
            if u.as_str() != Some(uuid) {
                return Err(RegistryError::Manifest(ManifestError {
                    problems: vec!["$.uuid: a zone's UUID cannot change".into()],
                }));
            }
        }
        let mut value = zone.manifest.to_value();
        if let Some(m) = value.as_object_mut() {
            for (k, v) in changes {
                if !NIC_CHANGES.contains(&k.as_str()) {
                    m.insert(k.clone(), v.clone());
                }
            }
            crate::network::merge_nic_changes(m, changes)?;
        }
        let manifest = Manifest::from_value(&value)?;
        manifest.check_host(host_memory_mib())?;
        if zone.state == ZoneState::Running {
            crate::cgroups::set_caps(uuid, &manifest)?;
            // An OS zone's NICs change at once, as SmartOS's do; a VM's
            // taps are the VMM's, until it boots again.
            if manifest.vm.is_none() && manifest.nics != zone.manifest.nics {
                self.change_nics(uuid, &zone.manifest.nics, &manifest.nics)?;
            }
        }
        if manifest.quota != zone.manifest.quota {
            match self.pool()? {
                Some(pool) if crate::datasets::is_dataset(&pool, uuid) => {
                    crate::datasets::set_quota(&pool, uuid, manifest.quota)?
                }
                _ => {
                    return Err(RegistryError::Manifest(ManifestError {
                        problems: vec!["$.quota: a quota needs the zone on the zones pool".into()],
                    }))
                }
            }
        }
        replace_file(&self.zone_dir(uuid), MANIFEST, &pretty(&manifest))?;
        Ok(Zone {
            manifest,
            state: zone.state,
        })
    }

    /// Make running zone `uuid`'s NICs `new` where they were `old`: NICs
    /// gone or changed are removed, new or changed ones made.
    fn change_nics(
        &self,
        uuid: &str,
        old: &[crate::manifest::NicSpec],
        new: &[crate::manifest::NicSpec],
    ) -> Result<(), RegistryError> {
        let gone: Vec<String> = old
            .iter()
            .filter(|o| !new.contains(o))
            .map(|o| o.interface.clone())
            .collect();
        crate::network::hot_remove(uuid, &gone)?;
        let added: Vec<crate::manifest::NicSpec> =
            new.iter().filter(|n| !old.contains(n)).cloned().collect();
        if added.is_empty() {
            return Ok(());
        }
        let plans = crate::network::plan(self.root(), &added)?;
        let pid = self.init_pid(uuid)?;
        crate::network::hot_add(uuid, pid, &plans)?;
        Ok(())
    }

    /// Remove what interrupted commands left, so that every zone is whole
    /// or absent: scratch directories, zones whose `create` never finished
    /// (stopping whatever of them runs), deleted zones not yet emptied,
    /// lock files of older Lumens. Only
    /// when no command is changing the registry (its lock is free);
    /// otherwise the next command sweeps.
    pub fn sweep(&self) -> Result<(), RegistryError> {
        let Some(_registry) = DirLock::take(&self.zones, false)? else {
            return Ok(());
        };
        if let Some(pool) = self.pool()? {
            pool.sweep()?;
        }
        for entry in fs::read_dir(&self.zones)
            .map_err(io(&self.zones))?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if let Some(uuid) = name
                .strip_prefix(".new-")
                .or_else(|| name.strip_prefix(".trash-"))
            {
                if valid_name(uuid) {
                    let _ = fs::remove_dir_all(&path);
                }
            } else if let Some(uuid) = name.strip_suffix(".lock") {
                if valid_name(uuid) {
                    let _ = fs::remove_file(&path);
                }
            } else if valid_name(&name) && path.join(CREATING).exists() {
                // A create holds the registry's lock from start to end:
                // with the lock ours, its creator is gone.
                if let Ok(Some(_zone)) = DirLock::take(&path, false) {
                    self.destroy_locked(&name)?;
                }
            }
        }
        Ok(())
    }
}

/// `vmadm update` keys that change `nics` rather than being fields:
/// SmartOS's `add_nics`, `remove_nics` (by MAC or interface) and
/// `update_nics` (by MAC or interface).
const NIC_CHANGES: &[&str] = &["add_nics", "remove_nics", "update_nics"];

/// The host's memory in MiB (a VM's `ram` must fit in it).
pub(crate) fn host_memory_mib() -> u64 {
    // SAFETY: sysinfo fills the struct it is given.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return u64::MAX;
    }
    (info.totalram as u64).saturating_mul(u64::from(info.mem_unit)) >> 20
}

fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Fire a `zone` probe with the zone's id (none yet: 0) and its name, the UUID.
pub(crate) fn fire(uuid: &str, probe: impl FnOnce(u64, *const std::ffi::c_char)) {
    let Ok(name) = std::ffi::CString::new(uuid) else {
        return;
    };
    probe(0, name.as_ptr());
}

/// A zone directory's name: a UUID, never a path.
pub(crate) fn valid_name(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn pretty(m: &Manifest) -> String {
    let mut s = serde_json::to_string_pretty(&m.to_value()).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

fn set_mode(path: &Path, mode: u32) -> Result<(), RegistryError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Write a new file, not synced yet; the file and its path.
fn write_unsynced(path: &Path, text: &str) -> Result<(File, PathBuf), RegistryError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    Ok((f, path.to_path_buf()))
}

/// Write a new file and sync its contents.
fn write_file(path: &Path, text: &str) -> Result<(), RegistryError> {
    let mut f = File::create(path).map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Sync a directory's entries (a rename into it, a file made in it).
fn sync_dir(dir: &Path) -> Result<(), RegistryError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Replace `dir/name` atomically: after a crash it holds the old text or
/// the new, never a torn one.
fn replace_file(dir: &Path, name: &str, text: &str) -> Result<(), RegistryError> {
    let tmp = dir.join(format!(".{name}.new"));
    write_file(&tmp, text)?;
    let path = dir.join(name);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().expect("temp dir");
        let r = Registry::at(dir.path()).expect("registry");
        (dir, r)
    }

    #[test]
    fn create_get_list_delete() {
        let (_d, r) = registry();
        let a = r
            .create(r#"{"alias": "a", "max_physical_memory": 128}"#)
            .expect("create a");
        let b = r.create(r#"{"alias": "b"}"#).expect("create b");
        assert_eq!(a.state, ZoneState::Stopped);
        assert_eq!(r.get(&a.manifest.uuid).expect("get").manifest, a.manifest);
        let listed: Vec<String> = r
            .list()
            .expect("list")
            .into_iter()
            .map(|z| z.manifest.uuid)
            .collect();
        let mut want = vec![a.manifest.uuid.clone(), b.manifest.uuid.clone()];
        want.sort();
        assert_eq!(listed, want);
        // Each zone has an id range of its own.
        assert_ne!(
            r.ids(&a.manifest.uuid).expect("ids"),
            r.ids(&b.manifest.uuid).expect("ids")
        );
        r.delete(&a.manifest.uuid).expect("delete");
        assert!(matches!(
            r.get(&a.manifest.uuid),
            Err(RegistryError::NoSuchZone(_))
        ));
        assert_eq!(r.list().expect("list").len(), 1);
    }

    #[test]
    fn a_uuid_is_created_once() {
        let (_d, r) = registry();
        let m = r#"{"uuid": "00000000-0000-4000-8000-00000000000a"}"#;
        r.create(m).expect("first");
        assert!(matches!(r.create(m), Err(RegistryError::Exists(_))));
    }

    #[test]
    fn a_bad_manifest_leaves_nothing_behind() {
        let (d, r) = registry();
        assert!(matches!(
            r.create(r#"{"cpu_cap": "x"}"#),
            Err(RegistryError::Manifest(_))
        ));
        let left: Vec<_> = fs::read_dir(d.path().join("zones"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn update_replaces_the_manifest_whole() {
        let (_d, r) = registry();
        let z = r
            .create(r#"{"alias": "a", "cpu_cap": 10}"#)
            .expect("create");
        let uuid = &z.manifest.uuid;
        r.update(uuid, &serde_json::json!({"cpu_cap": 30}))
            .expect("update");
        assert_eq!(r.get(uuid).expect("get").manifest.cpu_cap, Some(30));
        // Only the manifest and the id record are left: the new copy was
        // renamed over the old.
        let mut names: Vec<String> = fs::read_dir(r.zone_dir(uuid))
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        assert_eq!(names, ["ids", "manifest.json"]);
    }

    #[test]
    fn names_are_uuids_not_paths_and_make_no_files() {
        let (d, r) = registry();
        assert!(matches!(
            r.get("../../etc"),
            Err(RegistryError::NoSuchZone(_))
        ));
        let outside = d.path().join("x");
        let name = format!("../../{}", outside.display());
        assert!(matches!(r.delete(&name), Err(RegistryError::NoSuchZone(_))));
        assert!(matches!(
            r.delete("00000000-0000-4000-8000-00000000000b"),
            Err(RegistryError::NoSuchZone(_))
        ));
        assert!(!outside.exists());
        assert!(!Path::new(&format!("{}.lock", outside.display())).exists());
        // Nothing was made for the zone that does not exist either.
        assert_eq!(
            fs::read_dir(d.path().join("zones")).expect("dir").count(),
            0
        );
    }

    #[test]
    fn an_unfinished_create_is_no_zone_and_is_swept() {
        let (d, r) = registry();
        let z = r.create(r#"{"alias": "whole"}"#).expect("create");
        // What a create killed half way leaves: a scratch directory, a
        // zone still marked, an old-style lock file.
        let half = "00000000-0000-4000-8000-00000000000c";
        {
            let _lock = r.lock_registry().expect("lock");
            let m = Manifest::parse(&format!(r#"{{"uuid": "{half}"}}"#)).expect("manifest");
            r.create_locked(m).expect("create");
        }
        let zones = d.path().join("zones");
        fs::create_dir(zones.join(format!(".new-{half}"))).expect("scratch");
        fs::write(zones.join(format!("{half}.lock")), "").expect("lock file");
        assert!(matches!(r.get(half), Err(RegistryError::NoSuchZone(_))));
        assert_eq!(r.list().expect("list").len(), 1);
        r.sweep().expect("sweep");
        let mut left: Vec<String> = fs::read_dir(&zones)
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        left.sort();
        assert_eq!(left, std::slice::from_ref(&z.manifest.uuid));
    }
}
