//! Pools made and destroyed by each test: a sparse file on a loop device
//! under the test's own `LUMEN_ROOT`, gone (unmounted, its loop device
//! released, its file removed) when the fixture drops.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use storage::pool::{CreateOptions, Pool, Pools};

/// Whether this test can make pools (root, btrfs, mkfs.btrfs); under
/// `CI=true` a missing capability fails the test instead of skipping it.
pub fn can_make_pools(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("not running as root".to_string())
    } else if std::process::Command::new("mkfs.btrfs")
        .arg("--version")
        .output()
        .is_err()
    {
        Some("mkfs.btrfs is not installed (btrfs-progs)".to_string())
    } else {
        None
    };
    match why {
        None => true,
        Some(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: required under CI=true, but {why}")
        }
        Some(why) => {
            eprintln!("skipping {test}: {why}");
            false
        }
    }
}

/// A pool of its own for one test.
pub struct TestPool {
    pub dir: tempfile::TempDir,
    pub pools: Pools,
    pub pool: Option<Pool>,
    pub name: String,
}

impl TestPool {
    /// Pool `name` of `size` bytes.
    pub fn new(name: &str, size: u64) -> TestPool {
        let dir = tempfile::Builder::new()
            .prefix("lumen-storage-")
            .tempdir()
            .expect("temp dir");
        let pools = Pools::at(dir.path()).expect("pools");
        let pool = pools
            .create(
                name,
                &CreateOptions {
                    size: Some(size),
                    ..Default::default()
                },
            )
            .expect("create pool");
        TestPool {
            dir,
            pools,
            pool: Some(pool),
            name: name.to_string(),
        }
    }

    pub fn pool(&self) -> &Pool {
        self.pool.as_ref().expect("open")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn mnt(&self) -> PathBuf {
        self.pool().mountpoint().to_path_buf()
    }
}

impl Drop for TestPool {
    fn drop(&mut self) {
        self.pool.take();
        if self.pools.exists(&self.name) {
            if let Err(e) = self.pools.destroy(&self.name) {
                eprintln!("destroying test pool {}: {e}", self.name);
            }
        }
    }
}

/// sha256-free checksum of every file under `dir`: path, mode, size and
/// contents (FNV-1a 64), sorted by path; what a round trip must keep.
pub fn tree_digest(dir: &Path) -> Vec<(String, u32, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let top_dev = std::fs::metadata(dir).expect("stat").dev();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d).expect("read dir").flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let rel = p
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            if rel == ".zfs" || rel.starts_with(".zfs/") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).expect("stat");
            // A nested dataset is another dataset's; where a snapshot had
            // one, btrfs shows an empty placeholder (inode 2), which no
            // stream carries. Neither is this dataset's content.
            if m.ino() == 2 || m.dev() != top_dev {
                continue;
            }
            let hash = if m.file_type().is_file() {
                let bytes = std::fs::read(&p).expect("read");
                bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
                })
            } else if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).expect("readlink");
                t.to_string_lossy().len() as u64
            } else {
                0
            };
            out.push((rel, m.mode(), m.size(), hash));
            if m.file_type().is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}
