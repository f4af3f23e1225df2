//! The zone registry: one directory per zone under `LUMEN_ROOT/zones`
//! (`/var/lib/lumen` by default) holding its manifest and state, so zones
//! outlive the tools that made them. A zone is created in a scratch
//! directory and renamed into place, so a failed `create` leaves nothing
//! behind; every change to a zone holds its lock (`flock` on
//! `zones/UUID.lock`), so concurrent `vmadm` calls on one zone take turns.

use crate::manifest::{Manifest, ManifestError};
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Where zone state lives when `LUMEN_ROOT` is not set.
pub const DEFAULT_ROOT: &str = "/var/lib/lumen";

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// No zone has this UUID.
    #[error("no such zone: {0}")]
    NoSuchZone(String),
    /// A zone with this UUID exists.
    #[error("a zone with UUID {0} already exists")]
    Exists(String),
    /// A zone in this state cannot do that.
    #[error("zone {uuid} is {state}: cannot {action}")]
    State {
        /// The zone.
        uuid: String,
        /// Its state.
        state: ZoneState,
        /// What was asked.
        action: &'static str,
    },
    /// Booting failed.
    #[error("cannot boot the zone: {0}")]
    Boot(String),
    /// A resource control cannot be set here.
    #[error("{0}")]
    Cgroup(String),
    /// Not built yet.
    #[error(
        "{0} is not implemented yet: zones can be created, listed, read and deleted, not booted"
    )]
    NotYet(&'static str),
    /// The file system said no.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A zone's state, as `vmadm list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    /// Created, not running.
    Stopped,
    /// Its init runs.
    Running,
}

impl std::fmt::Display for ZoneState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ZoneState::Stopped => "stopped",
            ZoneState::Running => "running",
        })
    }
}

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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError + '_ {
    move |source| RegistryError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An exclusive `flock` on a zone's lock file, released on drop.
struct ZoneLock(File);

impl ZoneLock {
    fn take(path: &Path) -> Result<ZoneLock, RegistryError> {
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(io(path))?;
        // SAFETY: flock on an fd we own; blocks until the lock is ours.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(path)(std::io::Error::last_os_error()));
        }
        Ok(ZoneLock(f))
    }
}

impl Drop for ZoneLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the fd we locked.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

impl Registry {
    /// The registry at `LUMEN_ROOT` (or [`DEFAULT_ROOT`]).
    pub fn open() -> Result<Registry, RegistryError> {
        let root =
            std::env::var_os("LUMEN_ROOT").map_or_else(|| DEFAULT_ROOT.into(), PathBuf::from);
        Registry::at(&root)
    }

    /// The registry under `root`.
    pub fn at(root: &Path) -> Result<Registry, RegistryError> {
        let zones = root.join("zones");
        fs::create_dir_all(&zones).map_err(io(&zones))?;
        Ok(Registry { zones })
    }

    fn dir(&self, uuid: &str) -> PathBuf {
        self.zones.join(uuid)
    }

    /// The zone's directory (manifest, state, root).
    pub fn zone_dir(&self, uuid: &str) -> PathBuf {
        self.dir(uuid)
    }

    fn lock(&self, uuid: &str) -> Result<ZoneLock, RegistryError> {
        ZoneLock::take(&self.zones.join(format!("{uuid}.lock")))
    }

    /// Hold the zone's lock (for the runtime's changes).
    pub(crate) fn lock_zone(&self, uuid: &str) -> Result<impl Drop, RegistryError> {
        if !valid_name(uuid) {
            return Err(RegistryError::NoSuchZone(uuid.to_string()));
        }
        self.lock(uuid)
    }

    /// Create a zone from a manifest's text; it starts stopped, whatever
    /// its `autoboot` ([`Registry::provision`] is `vmadm create`, which
    /// boots it).
    pub fn create(&self, text: &str) -> Result<Zone, RegistryError> {
        let manifest = Manifest::parse(text)?;
        let _lock = self.lock(&manifest.uuid)?;
        self.create_locked(manifest)
    }

    /// [`Registry::create`] with the zone's lock held by the caller.
    pub(crate) fn create_locked(&self, manifest: Manifest) -> Result<Zone, RegistryError> {
        let uuid = manifest.uuid.clone();
        let dir = self.dir(&uuid);
        if dir.exists() {
            return Err(RegistryError::Exists(uuid));
        }
        // Build it aside, then rename it into place: all or nothing. Only
        // the manifest is written: a zone with no `state` file has never
        // booted, and is stopped.
        let scratch = self.zones.join(format!(".new-{uuid}"));
        let _ = fs::remove_dir_all(&scratch);
        let built = (|| {
            fs::create_dir(&scratch).map_err(io(&scratch))?;
            write_file(&scratch.join("manifest.json"), &pretty(&manifest))?;
            fs::rename(&scratch, &dir).map_err(io(&dir))?;
            // A created zone survives a crash: the manifest's contents
            // were synced above, its name in `zones/` is synced here.
            sync_dir(&self.zones)
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

    /// Remove a stopped zone's directory, the caller holding its lock.
    pub(crate) fn remove_locked(&self, uuid: &str) -> Result<(), RegistryError> {
        let dir = self.dir(uuid);
        fs::remove_dir_all(&dir).map_err(io(&dir))?;
        let _ = fs::remove_file(self.zones.join(format!("{uuid}.lock")));
        fire(uuid, |id, name| probes::zone::delete(|| (id, name)));
        Ok(())
    }

    /// The zone with this UUID.
    pub fn get(&self, uuid: &str) -> Result<Zone, RegistryError> {
        let dir = self.dir(uuid);
        if !valid_name(uuid) || !dir.is_dir() {
            return Err(RegistryError::NoSuchZone(uuid.to_string()));
        }
        let path = dir.join("manifest.json");
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let manifest = Manifest::parse(&text)?;
        let mut state = self.recorded_state(uuid)?;
        // "running" from before the host went down: the zone's cgroup2
        // group lives exactly as long as its supervisor keeps it (cgroupfs
        // does not survive a reboot), so without it nothing runs.
        if state == ZoneState::Running && !crate::cgroups::of(uuid).unified.is_dir() {
            state = ZoneState::Stopped;
        }
        Ok(Zone { manifest, state })
    }

    /// The state the supervisor last wrote (stopped if it never wrote one).
    pub(crate) fn recorded_state(&self, uuid: &str) -> Result<ZoneState, RegistryError> {
        let state_path = self.dir(uuid).join("state");
        match fs::read_to_string(&state_path) {
            Ok(s) if s.trim() == "running" => Ok(ZoneState::Running),
            Ok(_) => Ok(ZoneState::Stopped),
            // Never booted.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ZoneState::Stopped),
            Err(e) => Err(io(&state_path)(e)),
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
        names.iter().map(|n| self.get(n)).collect()
    }

    /// Delete a stopped zone.
    pub fn delete(&self, uuid: &str) -> Result<(), RegistryError> {
        let _lock = self.lock(uuid)?;
        let zone = self.get(uuid)?;
        if zone.state == ZoneState::Running {
            return Err(RegistryError::State {
                uuid: uuid.into(),
                state: zone.state,
                action: "delete a running zone (stop it first)",
            });
        }
        self.remove_locked(uuid)
    }

    /// Change fields of a zone's manifest (`vmadm update`): `changes` is a
    /// JSON object merged over the manifest and checked as a whole. A
    /// running zone's caps change at once.
    pub fn update(&self, uuid: &str, changes: &serde_json::Value) -> Result<Zone, RegistryError> {
        let _lock = self.lock(uuid)?;
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
                m.insert(k.clone(), v.clone());
            }
        }
        let manifest = Manifest::from_value(&value)?;
        if zone.state == ZoneState::Running {
            crate::cgroups::prepare(uuid, &manifest)?;
        }
        replace_file(&self.dir(uuid), "manifest.json", &pretty(&manifest))?;
        Ok(Zone {
            manifest,
            state: zone.state,
        })
    }

    /// Boot a stopped zone (see [`crate::runtime`]).
    pub fn start(&self, uuid: &str) -> Result<i32, RegistryError> {
        self.boot(uuid)
    }
}

/// Fire a `zone` probe with the zone's id (none yet: 0) and its name, the UUID.
pub(crate) fn fire(uuid: &str, probe: impl FnOnce(u64, *const std::ffi::c_char)) {
    let Ok(name) = std::ffi::CString::new(uuid) else {
        return;
    };
    probe(0, name.as_ptr());
}

/// A zone directory's name: a UUID, never a path.
fn valid_name(s: &str) -> bool {
    s.len() == 36 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn pretty(m: &Manifest) -> String {
    let mut s = serde_json::to_string_pretty(&m.to_value()).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
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
        // Only the manifest is left: the new copy was renamed over it.
        let mut names: Vec<String> = fs::read_dir(r.dir(uuid))
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        assert_eq!(names, ["manifest.json"]);
    }

    #[test]
    fn names_are_uuids_not_paths() {
        let (_d, r) = registry();
        assert!(matches!(
            r.get("../../etc"),
            Err(RegistryError::NoSuchZone(_))
        ));
    }
}
