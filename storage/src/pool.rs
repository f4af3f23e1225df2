//! Pools: a btrfs filesystem on a device, or on a sparse file through a
//! loop device, mounted at the pool's mountpoint (`LUMEN_ROOT/NAME` by
//! default, so the `zones` pool is where the zone registry keeps zones).
//!
//! What Lumen knows of a pool is one JSON file, `LUMEN_ROOT/pools/NAME.json`
//! (its device, mountpoint, filesystem UUID, last scrub), written
//! atomically; an exported pool's is `NAME.exported.json`. A pool whose
//! mount is gone (the node rebooted) is mounted again when first opened,
//! as ZFS imports the pools of its cache file at boot.

use crate::btrfs::{self, Btrfs};
use crate::error::{io, kernel, Result, StorageError};
use crate::name::check_pool;
use crate::vdev;
use serde_json::{json, Value};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where Lumen keeps its state when `LUMEN_ROOT` is not set.
pub const DEFAULT_ROOT: &str = "/var/lib/lumen";
/// `statfs` type of btrfs.
const BTRFS_SUPER_MAGIC: i64 = 0x9123_683e;
/// The smallest pool file mkfs.btrfs takes with room to spare.
pub const MIN_POOL_SIZE: u64 = 256 << 20;

/// What Lumen records of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Its name (and btrfs label).
    pub name: String,
    /// Its device or file.
    pub vdev: PathBuf,
    /// Whether the vdev is a file (served by a loop device).
    pub file_backed: bool,
    /// Whether Lumen made the file (a destroy removes it).
    pub made_file: bool,
    /// Where it is mounted.
    pub mountpoint: PathBuf,
    /// The filesystem's UUID.
    pub guid: String,
    /// The last scrub's result, as `zpool status` shows it.
    pub last_scrub: Option<Value>,
}

impl PoolConfig {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "vdev": self.vdev,
            "file_backed": self.file_backed,
            "made_file": self.made_file,
            "mountpoint": self.mountpoint,
            "guid": self.guid,
            "last_scrub": self.last_scrub,
        })
    }

    fn from_json(path: &Path, v: &Value) -> Result<PoolConfig> {
        let bad = |field: &str| StorageError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("$.{field} is missing or of the wrong type")),
        };
        let s = |f: &str| v.get(f).and_then(Value::as_str).ok_or_else(|| bad(f));
        let b = |f: &str| v.get(f).and_then(Value::as_bool).ok_or_else(|| bad(f));
        Ok(PoolConfig {
            name: s("name")?.to_string(),
            vdev: PathBuf::from(s("vdev")?),
            file_backed: b("file_backed")?,
            made_file: b("made_file")?,
            mountpoint: PathBuf::from(s("mountpoint")?),
            guid: s("guid")?.to_string(),
            last_scrub: v.get("last_scrub").filter(|x| !x.is_null()).cloned(),
        })
    }
}

/// How to make a pool.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Its device or file (None: `LUMEN_ROOT/pools/NAME.img`).
    pub vdev: Option<PathBuf>,
    /// Size of a file Lumen makes (None: 90% of the free space where it goes).
    pub size: Option<u64>,
    /// Mountpoint (None: `LUMEN_ROOT/NAME`).
    pub mountpoint: Option<PathBuf>,
    /// Overwrite a device or file that holds a filesystem.
    pub force: bool,
}

/// The pools of one `LUMEN_ROOT`.
#[derive(Clone)]
pub struct Pools {
    root: PathBuf,
    dir: PathBuf,
    kernel: Arc<dyn Btrfs>,
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pools").field("dir", &self.dir).finish()
    }
}

/// An imported, mounted pool.
pub struct Pool {
    /// Its record.
    pub config: PoolConfig,
    /// Its top level, open (ioctls on the filesystem go through it).
    pub(crate) top: File,
    pub(crate) kernel: Arc<dyn Btrfs>,
    pub(crate) fsid: [u8; 16],
    pub(crate) record: PathBuf,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.config)
            .finish()
    }
}

/// The root directory of Lumen's state: `LUMEN_ROOT` or [`DEFAULT_ROOT`].
pub fn lumen_root() -> PathBuf {
    std::env::var_os("LUMEN_ROOT").map_or_else(|| DEFAULT_ROOT.into(), PathBuf::from)
}

/// Open a directory (for ioctls, locks and `*at` calls).
pub(crate) fn open_dir(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)
        .map_err(io(path))
}

/// Write `path` atomically (a temporary file renamed over it, synced).
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.new");
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(text.as_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// Whether `dir` is the top of a btrfs mount with filesystem UUID `guid`
/// (any btrfs mount when `guid` is None).
fn mounted_here(kernel: &dyn Btrfs, dir: &Path, guid: Option<&str>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(f) = open_dir(dir) else {
        return false;
    };
    // SAFETY: fstatfs fills the struct it is given.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above, on an fd we own.
    if unsafe { libc::fstatfs(f.as_raw_fd(), &mut st) } != 0 || st.f_type != BTRFS_SUPER_MAGIC {
        return false;
    }
    let (Ok(here), Some(parent)) = (f.metadata(), dir.parent()) else {
        return false;
    };
    let Ok(up) = std::fs::metadata(parent) else {
        return false;
    };
    // The top level's root directory is inode 256 of subvolume 5.
    if here.dev() == up.dev() || here.ino() != 256 || kernel.subvol_id(&f).ok() != Some(5) {
        return false;
    }
    match guid {
        None => true,
        Some(g) => kernel
            .fs_info(&f)
            .is_ok_and(|i| btrfs::format_uuid(&i.fsid) == g),
    }
}

/// Whether `dir` is the root of a mount (on another device than its parent).
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(dir), dir.parent().map(std::fs::metadata)) {
        (Ok(d), Some(Ok(p))) => d.dev() != p.dev(),
        _ => false,
    }
}

fn mount_btrfs(device: &Path, at: &Path) -> std::io::Result<()> {
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).ok();
    let (Some(dev), Some(dir)) = (c(device), c(at)) else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: NUL-terminated strings that outlive the call; no data.
    let r = unsafe {
        libc::mount(
            dev.as_ptr(),
            dir.as_ptr(),
            c"btrfs".as_ptr(),
            libc::MS_NOATIME,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Unmount `at` (its loop device, if any, goes with it).
fn unmount(at: &Path) -> std::io::Result<()> {
    let Ok(dir) = std::ffi::CString::new(at.as_os_str().as_encoded_bytes()) else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: a NUL-terminated path.
    if unsafe { libc::umount2(dir.as_ptr(), 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Free bytes of the filesystem holding `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the struct it is given.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

impl Pools {
    /// The pools of `LUMEN_ROOT` (or [`DEFAULT_ROOT`]).
    pub fn from_env() -> Result<Pools> {
        Pools::at(&lumen_root())
    }

    /// The pools whose state is under `root`.
    pub fn at(root: &Path) -> Result<Pools> {
        Pools::with_kernel(root, Arc::new(btrfs::Real))
    }

    /// The same, making btrfs calls through `kernel` (tests inject faults).
    pub fn with_kernel(root: &Path, kernel: Arc<dyn Btrfs>) -> Result<Pools> {
        // Made by the first create or import: reading about pools leaves
        // no trace on a node that has none.
        let dir = root.join("pools");
        Ok(Pools {
            root: root.to_path_buf(),
            dir,
            kernel,
        })
    }

    /// The state directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn record(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn exported_record(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.exported.json"))
    }

    /// Whether pool `name` is imported here.
    pub fn exists(&self, name: &str) -> bool {
        check_pool(name).is_ok() && self.record(name).exists()
    }

    fn read_record(path: &Path) -> Result<PoolConfig> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| io(path)(std::io::Error::other(format!("not JSON: {e}"))))?;
        PoolConfig::from_json(path, &v)
    }

    /// `zpool create`: make pool `name` and mount it.
    pub fn create(&self, name: &str, opts: &CreateOptions) -> Result<Pool> {
        check_pool(name)?;
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        if self.record(name).exists() || self.exported_record(name).exists() {
            return Err(StorageError::PoolExists(name.to_string()));
        }
        let mountpoint = opts
            .mountpoint
            .clone()
            .unwrap_or_else(|| self.root.join(name));
        if !mountpoint.is_absolute() {
            return Err(StorageError::Refused {
                action: "create pool",
                name: name.into(),
                why: format!(
                    "mountpoint {} is not an absolute path",
                    mountpoint.display()
                ),
            });
        }
        if mounted_here(&*self.kernel, &mountpoint, None) {
            return Err(StorageError::Refused {
                action: "create pool",
                name: name.into(),
                why: format!("{} is already a mounted filesystem", mountpoint.display()),
            });
        }
        if let Ok(mut entries) = std::fs::read_dir(&mountpoint) {
            if entries.next().is_some() {
                return Err(StorageError::Refused {
                    action: "create pool",
                    name: name.into(),
                    why: format!(
                        "mountpoint {} exists and is not empty",
                        mountpoint.display()
                    ),
                });
            }
        }
        let vdev = opts
            .vdev
            .clone()
            .unwrap_or_else(|| self.dir.join(format!("{name}.img")));
        let device = vdev::is_block_device(&vdev);
        let mut made_file = false;
        if !device {
            if let Some(dir) = vdev.parent() {
                std::fs::create_dir_all(dir).map_err(io(dir))?;
            }
            if !vdev.exists() {
                let size = match opts.size {
                    Some(s) => s,
                    None => vdev
                        .parent()
                        .and_then(free_space)
                        .map_or(MIN_POOL_SIZE, |free| free / 10 * 9),
                };
                if size < MIN_POOL_SIZE {
                    return Err(StorageError::Refused {
                        action: "create pool",
                        name: name.into(),
                        why: format!(
                            "{} bytes is too small for a pool (at least {MIN_POOL_SIZE})",
                            size
                        ),
                    });
                }
                let f = File::create_new(&vdev).map_err(io(&vdev))?;
                made_file = true;
                if let Err(e) = f.set_len(size) {
                    let _ = std::fs::remove_file(&vdev);
                    return Err(io(&vdev)(e));
                }
            }
        }
        let made = self.make_and_mount(name, &vdev, device, made_file, &mountpoint, opts.force);
        match made {
            Ok(p) => Ok(p),
            Err(e) => {
                if made_file {
                    let _ = std::fs::remove_file(&vdev);
                }
                Err(e)
            }
        }
    }

    fn make_and_mount(
        &self,
        name: &str,
        vdev: &Path,
        device: bool,
        made_file: bool,
        mountpoint: &Path,
        force: bool,
    ) -> Result<Pool> {
        if !force {
            if let Ok(Some(l)) = vdev::read_label(vdev) {
                return Err(StorageError::Refused {
                    action: "create pool",
                    name: name.into(),
                    why: format!(
                        "{} holds a btrfs filesystem (label {:?}); use -f to overwrite it",
                        vdev.display(),
                        l.label
                    ),
                });
            }
        }
        let out = std::process::Command::new("mkfs.btrfs")
            .args(["-q", "-f", "-L", name])
            .arg(vdev)
            .output()
            .map_err(|e| StorageError::Tool {
                program: "mkfs.btrfs".into(),
                why: format!("cannot be run: {e} (install btrfs-progs)"),
            })?;
        if !out.status.success() {
            return Err(StorageError::Tool {
                program: "mkfs.btrfs".into(),
                why: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let label =
            vdev::read_label(vdev)
                .map_err(io(vdev))?
                .ok_or_else(|| StorageError::Tool {
                    program: "mkfs.btrfs".into(),
                    why: format!("left no btrfs superblock on {}", vdev.display()),
                })?;
        let config = PoolConfig {
            name: name.to_string(),
            vdev: vdev.to_path_buf(),
            file_backed: !device,
            made_file,
            mountpoint: mountpoint.to_path_buf(),
            guid: btrfs::format_uuid(&label.fsid),
            last_scrub: None,
        };
        self.mount(&config)?;
        let pool = self.handle(config)?;
        let set_up = (|| {
            pool.kernel
                .quota_enable(&pool.top)
                .map_err(kernel("enable quotas on", name))?;
            // The root dataset's group: it and every dataset below it.
            crate::quota::create_group(&pool, &pool.top, 5, &[]).map(drop)
        })();
        if let Err(e) = set_up.and_then(|_| {
            write_atomic(
                &self.record(name),
                &format!("{:#}\n", pool.config.to_json()),
            )
        }) {
            drop(pool);
            let _ = unmount(mountpoint);
            return Err(e);
        }
        Ok(pool)
    }

    /// Mount `config`'s filesystem at its mountpoint.
    fn mount(&self, config: &PoolConfig) -> Result<()> {
        let at = &config.mountpoint;
        std::fs::create_dir_all(at).map_err(io(at))?;
        let mounted = if config.file_backed {
            let lo = vdev::attach(&config.vdev).map_err(|e| StorageError::Io {
                path: config.vdev.clone(),
                source: std::io::Error::new(e.kind(), format!("attaching a loop device: {e}")),
            })?;
            // The loop device is released when this handle closes and
            // the mount (which holds its own reference) goes.
            mount_btrfs(&lo.path, at)
        } else {
            mount_btrfs(&config.vdev, at)
        };
        mounted.map_err(|e| StorageError::Io {
            path: at.clone(),
            source: std::io::Error::new(
                e.kind(),
                format!("mounting {} here: {e}", config.vdev.display()),
            ),
        })
    }

    fn handle(&self, config: PoolConfig) -> Result<Pool> {
        let top = open_dir(&config.mountpoint)?;
        let fsid = self
            .kernel
            .fs_info(&top)
            .map_err(kernel("open pool", &config.name))?
            .fsid;
        Ok(Pool {
            record: self.record(&config.name),
            config,
            top,
            kernel: self.kernel.clone(),
            fsid,
        })
    }

    /// Open imported pool `name`, mounting it if its mount is gone.
    pub fn open(&self, name: &str) -> Result<Pool> {
        check_pool(name)?;
        let path = self.record(name);
        if !path.exists() {
            return Err(StorageError::NoSuchPool(name.to_string()));
        }
        let config = Self::read_record(&path)?;
        if !mounted_here(&*self.kernel, &config.mountpoint, Some(&config.guid)) {
            // Never a second mount over the first: a mountpoint that is one
            // already, but not found to be this pool's, is an error to see.
            if is_mount_point(&config.mountpoint) {
                return Err(StorageError::Refused {
                    action: "open pool",
                    name: name.into(),
                    why: format!(
                        "{} is mounted, but is not this pool's filesystem (or cannot be checked)",
                        config.mountpoint.display()
                    ),
                });
            }
            self.mount(&config)?;
        }
        self.handle(config)
    }

    /// The imported pools' names, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map_err(io(&self.dir))?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .filter(|n| !n.ends_with(".exported") && check_pool(n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// `zpool destroy`: unmount, forget, and remove the file Lumen made.
    /// Refused while something holds the pool's mount (a running zone).
    pub fn destroy(&self, name: &str) -> Result<()> {
        let pool = self.open(name)?;
        let config = pool.config.clone();
        drop(pool);
        unmount(&config.mountpoint).map_err(|e| StorageError::Refused {
            action: "destroy pool",
            name: name.into(),
            why: format!("unmounting {}: {e}", config.mountpoint.display()),
        })?;
        let _ = std::fs::remove_dir(&config.mountpoint);
        let path = self.record(name);
        std::fs::remove_file(&path).map_err(io(&path))?;
        if config.made_file {
            std::fs::remove_file(&config.vdev).map_err(io(&config.vdev))?;
        }
        Ok(())
    }

    /// `zpool export`: unmount and set the pool aside, importable again.
    pub fn export(&self, name: &str) -> Result<()> {
        let pool = self.open(name)?;
        let config = pool.config.clone();
        drop(pool);
        unmount(&config.mountpoint).map_err(|e| StorageError::Refused {
            action: "export pool",
            name: name.into(),
            why: format!("unmounting {}: {e}", config.mountpoint.display()),
        })?;
        std::fs::rename(self.record(name), self.exported_record(name))
            .map_err(io(self.record(name)))?;
        Ok(())
    }

    /// Seconds since pool `name` was created or imported (its record's
    /// last write), if it is imported.
    pub fn imported_for(&self, name: &str) -> Option<f64> {
        let m = std::fs::metadata(self.record(name)).ok()?.modified().ok()?;
        Some(m.elapsed().ok()?.as_secs_f64())
    }

    /// Pools that could be imported: those exported here, and btrfs
    /// files and devices found in `dirs`; (name, vdev).
    pub fn importable(&self, dirs: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(".exported.json") {
                let c = Self::read_record(&e.path())?;
                found.push((c.name, c.vdev));
            }
        }
        for d in dirs {
            for e in std::fs::read_dir(d).map_err(io(d))?.flatten() {
                let p = e.path();
                if let Ok(Some(l)) = vdev::read_label(&p) {
                    if check_pool(&l.label).is_ok()
                        && !found.iter().any(|(_, v)| v == &p)
                        && !self.exists(&l.label)
                    {
                        found.push((l.label, p));
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// `zpool import [-d DIR] NAME`: mount an exported pool, or one found
    /// on a file or device in `dirs`.
    pub fn import(&self, name: &str, dirs: &[PathBuf]) -> Result<Pool> {
        check_pool(name)?;
        if self.exists(name) {
            return Err(StorageError::PoolExists(name.to_string()));
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let exported = self.exported_record(name);
        let config = if exported.exists() {
            Self::read_record(&exported)?
        } else {
            let Some((_, vdev)) = self.importable(dirs)?.into_iter().find(|(n, _)| n == name)
            else {
                return Err(StorageError::NoSuchPool(name.to_string()));
            };
            let label = vdev::read_label(&vdev)
                .map_err(io(&vdev))?
                .ok_or_else(|| StorageError::NoSuchPool(name.to_string()))?;
            PoolConfig {
                name: name.to_string(),
                file_backed: !vdev::is_block_device(&vdev),
                vdev,
                made_file: false,
                mountpoint: self.root.join(name),
                guid: btrfs::format_uuid(&label.fsid),
                last_scrub: None,
            }
        };
        self.mount(&config)?;
        let pool = self.handle(config)?;
        write_atomic(
            &self.record(name),
            &format!("{:#}\n", pool.config.to_json()),
        )?;
        if exported.exists() {
            std::fs::remove_file(&exported).map_err(io(&exported))?;
        }
        Ok(pool)
    }
}

/// One line of `zpool list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    /// Device bytes.
    pub size: u64,
    /// Bytes allocated (every copy counted).
    pub alloc: u64,
    /// Bytes not allocated.
    pub free: u64,
    /// ONLINE, DEGRADED (errors counted on its device) or UNAVAIL.
    pub health: &'static str,
}

/// One device of `zpool status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    /// Its path (the file, for a file-backed pool).
    pub path: PathBuf,
    /// READ errors.
    pub read: u64,
    /// WRITE errors (and flush errors).
    pub write: u64,
    /// CKSUM errors (checksum and generation mismatches).
    pub cksum: u64,
}

impl Pool {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Where its root dataset is mounted.
    pub fn mountpoint(&self) -> &Path {
        &self.config.mountpoint
    }

    /// The kernel interface it uses.
    pub fn kernel(&self) -> &dyn Btrfs {
        &*self.kernel
    }

    /// The same pool, its btrfs calls made through `kernel` from now on
    /// (tests fail one of them with [`btrfs::Faulty`]).
    pub fn with_kernel(mut self, kernel: Arc<dyn Btrfs>) -> Pool {
        self.kernel = kernel;
        self
    }

    /// Its devices' error counters.
    pub fn devices(&self) -> Result<Vec<DeviceStatus>> {
        let info = self
            .kernel
            .fs_info(&self.top)
            .map_err(kernel("read pool", self.name()))?;
        let mut out = Vec::new();
        for devid in 1..=info.max_id {
            let Ok(dev) = self.kernel.dev_info(&self.top, devid) else {
                continue;
            };
            let s = self
                .kernel
                .dev_stats(&self.top, devid)
                .map_err(kernel("read device errors of", self.name()))?;
            out.push(DeviceStatus {
                path: if self.config.file_backed {
                    self.config.vdev.clone()
                } else {
                    dev.path
                },
                read: s.read_errs,
                write: s.write_errs + s.flush_errs,
                cksum: s.corruption_errs + s.generation_errs,
            });
        }
        Ok(out)
    }

    /// Size, allocation and health, from the kernel's counters.
    pub fn usage(&self) -> Result<PoolUsage> {
        let info = self
            .kernel
            .fs_info(&self.top)
            .map_err(kernel("read pool", self.name()))?;
        let mut size = 0;
        for devid in 1..=info.max_id {
            if let Ok(d) = self.kernel.dev_info(&self.top, devid) {
                size += d.total_bytes;
            }
        }
        let spaces = self
            .kernel
            .space_info(&self.top)
            .map_err(kernel("read space of", self.name()))?;
        // Global reserve (bit 49) is carved out of metadata, not beside it.
        let alloc: u64 = spaces
            .iter()
            .filter(|s| s.flags & (1 << 49) == 0)
            .map(|s| {
                let copies = if s.flags & btrfs::PROFILE_TWO_COPIES != 0 {
                    2
                } else {
                    1
                };
                s.used_bytes * copies
            })
            .sum();
        let errors = self
            .devices()?
            .iter()
            .any(|d| d.read + d.write + d.cksum > 0);
        Ok(PoolUsage {
            size,
            alloc: alloc.min(size),
            free: size.saturating_sub(alloc),
            health: if errors { "DEGRADED" } else { "ONLINE" },
        })
    }

    /// `zpool scrub`: read and verify every block of every device (waits
    /// for the end); the result is kept for `zpool status`.
    pub fn scrub(&mut self) -> Result<btrfs::ScrubProgress> {
        let started = std::time::SystemTime::now();
        let t0 = std::time::Instant::now();
        let info = self
            .kernel
            .fs_info(&self.top)
            .map_err(kernel("scrub", self.name()))?;
        let mut total = btrfs::ScrubProgress::default();
        for devid in 1..=info.max_id {
            if self.kernel.dev_info(&self.top, devid).is_err() {
                continue;
            }
            let p = self
                .kernel
                .scrub(&self.top, devid)
                .map_err(kernel("scrub", self.name()))?;
            total.data_bytes_scrubbed += p.data_bytes_scrubbed;
            total.tree_bytes_scrubbed += p.tree_bytes_scrubbed;
            total.read_errors += p.read_errors;
            total.csum_errors += p.csum_errors;
            total.verify_errors += p.verify_errors;
            total.corrected_errors += p.corrected_errors;
            total.uncorrectable_errors += p.uncorrectable_errors;
        }
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        self.config.last_scrub = Some(json!({
            "start": secs(started),
            "seconds": t0.elapsed().as_secs(),
            "scanned": total.data_bytes_scrubbed + total.tree_bytes_scrubbed,
            "repaired": total.corrected_errors,
            "errors": total.read_errors + total.csum_errors + total.verify_errors,
            "uncorrectable": total.uncorrectable_errors,
        }));
        write_atomic(&self.record, &format!("{:#}\n", self.config.to_json()))?;
        Ok(total)
    }

    /// The pool's devices' I/O counters: reads, bytes read, writes, bytes
    /// written (the loop device's for a file-backed pool).
    pub fn io_counters(&self) -> Option<[u64; 4]> {
        let info = self.kernel.fs_info(&self.top).ok()?;
        let mut sum = [0u64; 4];
        for devid in 1..=info.max_id {
            let Ok(d) = self.kernel.dev_info(&self.top, devid) else {
                continue;
            };
            let c = vdev::io_counters(&d.path)?;
            sum[0] += c[0];
            sum[1] += c[1] * 512;
            sum[2] += c[2];
            sum[3] += c[3] * 512;
        }
        Some(sum)
    }

    /// Commit the pool's running transaction (so counters are current).
    pub fn sync(&self) -> Result<()> {
        self.kernel
            .sync(&self.top)
            .map_err(kernel("sync", self.name()))
    }

    /// Hold the pool's lock: datasets are made, destroyed and renamed
    /// under it, and the sweep of unfinished work runs only with it.
    pub(crate) fn lock(&self) -> Result<PoolLock> {
        // On the pool's device (or file), not its mount: the zones pool is
        // mounted on the zone registry's directory, whose own lock the
        // registry holds while it makes a zone's dataset.
        let f = File::open(&self.config.vdev).map_err(io(&self.config.vdev))?;
        loop {
            // SAFETY: flock on an fd we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(PoolLock(f));
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(io(&self.config.vdev)(e));
            }
        }
    }
}

/// The pool's lock, held until dropped.
pub(crate) struct PoolLock(#[allow(dead_code)] File);
