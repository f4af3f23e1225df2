//! An imported pool ([`Pool`]): its record ([`PoolConfig`]), the open
//! top-level directory every btrfs call on it goes through, what
//! `zpool list` and `zpool status` show of it (space, health, device
//! errors, the last scrub), and the pool's lock.
//!
//! Apart from [`crate::pool`], which makes, imports, exports and destroys
//! pools and hands out these handles, because everything else in the
//! crate (datasets, snapshots, quotas, properties, send and receive)
//! works on a handle and never on the pool's lifecycle: quotas in
//! particular are set up by a pool's create and used by every dataset,
//! and can only sit between the two if the handle is below both.

use crate::btrfs::{self, Btrfs};
use crate::error::{io, kernel, Result, StorageError};
use crate::vdev;
use serde_json::{json, Value};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    pub(crate) fn to_json(&self) -> Value {
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

    pub(crate) fn from_json(path: &Path, v: &Value) -> Result<PoolConfig> {
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

    /// The pool's block devices as (major, minor): what the block layer
    /// (and D's `io` provider) names its requests by — the loop device,
    /// for a file-backed pool. A device that cannot be read is left out.
    pub fn device_numbers(&self) -> Vec<(u32, u32)> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let Ok(info) = self.kernel.fs_info(&self.top) else {
            return Vec::new();
        };
        (1..=info.max_id)
            .filter_map(|devid| {
                let d = self.kernel.dev_info(&self.top, devid).ok()?;
                let meta = std::fs::metadata(&d.path).ok()?;
                meta.file_type().is_block_device().then(|| {
                    let rdev = meta.rdev();
                    (libc::major(rdev), libc::minor(rdev))
                })
            })
            .collect()
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
