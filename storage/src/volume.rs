//! Volumes (`zfs create -V`): a dataset holding one sparse file, NOCOW
//! (no copy-on-write and no checksums on rewrite, as a VM's disk wants),
//! that a VM's virtio-blk device reads and writes. Its snapshot and clone
//! are the dataset's: btrfs copies a NOCOW file's blocks on the first
//! write after a snapshot, so both stay consistent.

use crate::attrs;
use crate::error::{io, Result, StorageError};
use crate::handle::Pool;
use crate::name::DatasetName;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// The volume's file, in its dataset.
pub const FILE: &str = "volume";
/// `FS_NOCOW_FL`.
const FS_NOCOW_FL: libc::c_long = 0x0080_0000;
const FS_IOC_GETFLAGS: u64 = 0x8008_6601;
const FS_IOC_SETFLAGS: u64 = 0x4008_6602;

/// Make dataset directory `dir` (of `name`) a volume of `size` bytes.
pub(crate) fn make(pool: &Pool, dir: &File, name: &DatasetName, size: u64) -> Result<()> {
    if size == 0 || !size.is_multiple_of(512) {
        return Err(StorageError::Property {
            name: name.to_string(),
            why: format!("volsize {size} must be a positive multiple of 512"),
        });
    }
    let here = format!("/proc/self/fd/{}", dir.as_raw_fd());
    let path = PathBuf::from(&here).join(FILE);
    let f = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io(pool.dataset_path(name).join(FILE)))?;
    // NOCOW only takes on an empty file.
    set_nocow(&f).map_err(io(pool.dataset_path(name).join(FILE)))?;
    f.set_len(size)
        .map_err(io(pool.dataset_path(name).join(FILE)))?;
    attrs::set(dir, attrs::TYPE, Some("volume")).map_err(io(pool.dataset_path(name)))?;
    attrs::set(dir, attrs::VOLSIZE, Some(&size.to_string())).map_err(io(pool.dataset_path(name)))
}

fn set_nocow(f: &File) -> std::io::Result<()> {
    let mut flags: libc::c_long = 0;
    // SAFETY: FS_IOC_GETFLAGS/SETFLAGS read and write one long.
    unsafe {
        if libc::ioctl(f.as_raw_fd(), FS_IOC_GETFLAGS as _, &mut flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        flags |= FS_NOCOW_FL;
        if libc::ioctl(f.as_raw_fd(), FS_IOC_SETFLAGS as _, &flags) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether a file is NOCOW.
pub fn is_nocow(f: &File) -> std::io::Result<bool> {
    let mut flags: libc::c_long = 0;
    // SAFETY: as above.
    if unsafe { libc::ioctl(f.as_raw_fd(), FS_IOC_GETFLAGS as _, &mut flags) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(flags & FS_NOCOW_FL != 0)
}

/// Grow volume `name` to `size` bytes (shrinking would cut a guest's
/// file system short: refused).
pub(crate) fn resize(pool: &Pool, dir: &File, name: &DatasetName, size: u64) -> Result<()> {
    let old: u64 = attrs::get(dir, attrs::VOLSIZE)
        .ok()
        .flatten()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StorageError::Property {
            name: name.to_string(),
            why: "'volsize' is a volume's property".into(),
        })?;
    if size < old || !size.is_multiple_of(512) {
        return Err(StorageError::Property {
            name: name.to_string(),
            why: format!("volsize may only grow, in multiples of 512 (now {old})"),
        });
    }
    let path = pool.dataset_path(name).join(FILE);
    let f = File::options().write(true).open(&path).map_err(io(&path))?;
    f.set_len(size).map_err(io(&path))?;
    attrs::set(dir, attrs::VOLSIZE, Some(&size.to_string())).map_err(io(pool.dataset_path(name)))
}

impl Pool {
    /// The file a VM's disk on volume `name` reads and writes (ZFS's
    /// `/dev/zvol/…`).
    pub fn volume_file(&self, name: &DatasetName) -> Result<PathBuf> {
        let path = self.dataset_path(name).join(FILE);
        let dir = File::open(self.dataset_path(name))
            .map_err(|_| StorageError::NoSuchDataset(name.to_string()))?;
        match attrs::get(&dir, attrs::TYPE) {
            Ok(Some(t)) if t == "volume" => Ok(path),
            _ => Err(StorageError::Refused {
                action: "open volume",
                name: name.to_string(),
                why: "not a volume".into(),
            }),
        }
    }
}
