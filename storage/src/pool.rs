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
use crate::handle::{open_dir, write_atomic};
use crate::name::check_pool;
use crate::vdev;
use serde_json::Value;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// The handle and what it reports live in their own module (below quotas,
// which this one uses to set up a new pool); their paths here are the ones
// the crate's users know.
pub use crate::handle::{DeviceStatus, Pool, PoolConfig, PoolUsage};

/// Where Lumen keeps its state when `LUMEN_ROOT` is not set.
pub const DEFAULT_ROOT: &str = "/var/lib/lumen";
/// `statfs` type of btrfs.
const BTRFS_SUPER_MAGIC: i64 = 0x9123_683e;
/// The smallest pool file mkfs.btrfs takes with room to spare.
pub const MIN_POOL_SIZE: u64 = 256 << 20;

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

/// The root directory of Lumen's state: `LUMEN_ROOT` or [`DEFAULT_ROOT`].
pub fn lumen_root() -> PathBuf {
    std::env::var_os("LUMEN_ROOT").map_or_else(|| DEFAULT_ROOT.into(), PathBuf::from)
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
