//! Every call Lumen makes into btrfs, behind one trait ([`Btrfs`]) so that
//! error-injection tests can replace any of them ([`Faulty`]).
//!
//! The calls are the kernel's btrfs ioctls (`linux/btrfs.h`), made with
//! `libc::ioctl` on `#[repr(C)]` copies of the kernel's argument structs
//! (their sizes are checked at compile time against the header's), plus
//! the qgroup counters btrfs publishes in sysfs (fresher than the quota
//! tree, which is written only at transaction commit). Nothing here parses
//! the `btrfs` command's output.
//!
//! This file is the interface the rest of the crate sees: the trait, what
//! its calls return, and their error. Behind it, `abi` holds the kernel's
//! ioctl numbers and argument structs, `tree` reads btrfs's own trees, and
//! [`Real`] and [`Faulty`] are the two implementations.

mod abi;
mod faulty;
mod real;
mod tree;

pub use faulty::Faulty;
pub use real::Real;

use std::fs::File;
use std::os::fd::RawFd;
use std::path::PathBuf;

/// A btrfs call that failed: which call, on what, and the kernel's errno.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{call} on {what}: {}", std::io::Error::from_raw_os_error(*.errno))]
pub struct KernelError {
    /// The ioctl or system call (`BTRFS_IOC_SNAP_CREATE_V2`).
    pub call: &'static str,
    /// What it was called on (a subvolume's name, a qgroup).
    pub what: String,
    /// The errno.
    pub errno: i32,
}

impl KernelError {
    /// The same error as an `io::Error` (keeps the errno: ENOSPC, EDQUOT).
    pub fn io(&self) -> std::io::Error {
        std::io::Error::from_raw_os_error(self.errno)
    }
}

/// Result of a btrfs call.
pub type Kr<T> = Result<T, KernelError>;

/// A qgroup id: `level/id`, as `btrfs qgroup show` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QgroupId {
    /// 0 for a subvolume's own group, 1 for Lumen's dataset-and-descendants groups.
    pub level: u16,
    /// The subvolume id (level 0) or the dataset's subvolume id (level 1).
    pub id: u64,
}

impl QgroupId {
    /// The kernel's packed form: level in the top 16 bits.
    pub fn raw(self) -> u64 {
        (u64::from(self.level) << 48) | self.id
    }
}

impl std::fmt::Display for QgroupId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.level, self.id)
    }
}

/// A qgroup's counters and limits (bytes; limits None when unset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QgroupUsage {
    /// Referenced bytes (under simple quotas: bytes the group's members wrote and still hold).
    pub referenced: u64,
    /// Exclusive bytes.
    pub exclusive: u64,
    /// `max_rfer`.
    pub max_referenced: Option<u64>,
    /// `max_excl`.
    pub max_exclusive: Option<u64>,
}

/// One subvolume, from the root tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubvolRecord {
    /// Its id (5 for the top level).
    pub id: u64,
    /// Its path from the top level (empty for the top level).
    pub path: String,
    /// The subvolume it sits in (0 for the top level).
    pub parent: u64,
    /// Its UUID.
    pub uuid: [u8; 16],
    /// The UUID of the subvolume it is a snapshot of (zero if none).
    pub parent_uuid: [u8; 16],
    /// The UUID of the subvolume it was received as (zero if none).
    pub received_uuid: [u8; 16],
    /// Read-only.
    pub read_only: bool,
    /// Creation time, seconds since the epoch.
    pub otime: u64,
    /// Nanoseconds of the creation time.
    pub otime_nsec: u32,
    /// Transaction of its last change.
    pub ctransid: u64,
    /// Transaction it was made in.
    pub otransid: u64,
    /// Generation.
    pub generation: u64,
}

/// Filesystem facts (`BTRFS_IOC_FS_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsInfo {
    /// Highest device id.
    pub max_id: u64,
    /// Number of devices.
    pub num_devices: u64,
    /// The filesystem's UUID.
    pub fsid: [u8; 16],
    /// Current generation.
    pub generation: u64,
}

/// One device of a filesystem (`BTRFS_IOC_DEV_INFO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevInfo {
    /// Device id.
    pub devid: u64,
    /// Bytes allocated to chunks on it.
    pub bytes_used: u64,
    /// Its size.
    pub total_bytes: u64,
    /// Its path as the kernel knows it.
    pub path: PathBuf,
}

/// A device's error counters (`BTRFS_IOC_GET_DEV_STATS`), in the kernel's order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DevStats {
    /// Write I/O errors.
    pub write_errs: u64,
    /// Read I/O errors.
    pub read_errs: u64,
    /// Flush errors.
    pub flush_errs: u64,
    /// Checksum errors.
    pub corruption_errs: u64,
    /// Generation mismatches.
    pub generation_errs: u64,
}

/// What a scrub found (`struct btrfs_scrub_progress`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrubProgress {
    /// Data bytes checked.
    pub data_bytes_scrubbed: u64,
    /// Metadata bytes checked.
    pub tree_bytes_scrubbed: u64,
    /// Read errors met.
    pub read_errors: u64,
    /// Checksum errors met.
    pub csum_errors: u64,
    /// Metadata verify errors met.
    pub verify_errors: u64,
    /// Errors repaired.
    pub corrected_errors: u64,
    /// Errors that could not be repaired.
    pub uncorrectable_errors: u64,
}

/// One block group type's space (`BTRFS_IOC_SPACE_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceInfo {
    /// `BTRFS_BLOCK_GROUP_*` flags (type and profile).
    pub flags: u64,
    /// Bytes allocated to it (logical).
    pub total_bytes: u64,
    /// Bytes used in it (logical).
    pub used_bytes: u64,
}

/// Block group profile flags that keep two copies.
pub const PROFILE_TWO_COPIES: u64 = (1 << 4) | (1 << 5) | (1 << 6); // RAID1, DUP, RAID10

/// The btrfs calls Lumen makes. [`Real`] makes them; tests wrap it in
/// [`Faulty`] to fail one of them.
pub trait Btrfs: Send + Sync {
    /// Make subvolume `name` in directory `parent`.
    fn subvol_create(&self, parent: &File, name: &str) -> Kr<()>;
    /// Snapshot subvolume `source` as `name` in directory `parent`.
    fn snapshot(&self, source: &File, parent: &File, name: &str, read_only: bool) -> Kr<()>;
    /// Delete subvolume `name` of directory `parent`.
    fn subvol_destroy(&self, parent: &File, name: &str) -> Kr<()>;
    /// Whether subvolume `subvol` is read-only.
    fn read_only(&self, subvol: &File) -> Kr<bool>;
    /// Make subvolume `subvol` read-only or writable.
    fn set_read_only(&self, subvol: &File, read_only: bool) -> Kr<()>;
    /// The id of the subvolume that holds `dir`.
    fn subvol_id(&self, dir: &File) -> Kr<u64>;
    /// Every subvolume of the filesystem `fs` is on, with its path.
    fn subvolumes(&self, fs: &File) -> Kr<Vec<SubvolRecord>>;
    /// Turn on simple quotas (squota).
    fn quota_enable(&self, fs: &File) -> Kr<()>;
    /// Create (or with `create` false, remove) a qgroup.
    fn qgroup_create(&self, fs: &File, id: QgroupId, create: bool) -> Kr<()>;
    /// Make `member` a member of `parent` (or with `assign` false, not).
    fn qgroup_assign(&self, fs: &File, member: QgroupId, parent: QgroupId, assign: bool) -> Kr<()>;
    /// Set a qgroup's limits (None: no limit).
    fn qgroup_limit(
        &self,
        fs: &File,
        id: QgroupId,
        max_referenced: Option<u64>,
        max_exclusive: Option<u64>,
    ) -> Kr<()>;
    /// The members of qgroup `parent` (from the quota tree).
    fn qgroup_members(&self, fs: &File, parent: QgroupId) -> Kr<Vec<QgroupId>>;
    /// Every qgroup of level `level` (from sysfs).
    fn qgroups(&self, fsid: &[u8; 16], level: u16) -> Kr<Vec<QgroupId>>;
    /// A qgroup's counters (None if it does not exist).
    fn qgroup_usage(&self, fsid: &[u8; 16], id: QgroupId) -> Kr<Option<QgroupUsage>>;
    /// Write a send stream of read-only subvolume `subvol` to `out`,
    /// relative to subvolume `parent` when given.
    fn send(&self, subvol: &File, out: RawFd, parent: Option<u64>, flags: u64) -> Kr<()>;
    /// Record that `subvol` was received as subvolume `uuid` at `stransid`.
    fn set_received(&self, subvol: &File, uuid: [u8; 16], stransid: u64) -> Kr<()>;
    /// Scrub device `devid` (blocks until done).
    fn scrub(&self, fs: &File, devid: u64) -> Kr<ScrubProgress>;
    /// Filesystem facts.
    fn fs_info(&self, fs: &File) -> Kr<FsInfo>;
    /// Device `devid`'s facts.
    fn dev_info(&self, fs: &File, devid: u64) -> Kr<DevInfo>;
    /// Device `devid`'s error counters.
    fn dev_stats(&self, fs: &File, devid: u64) -> Kr<DevStats>;
    /// Space by block group type.
    fn space_info(&self, fs: &File) -> Kr<Vec<SpaceInfo>>;
    /// Commit the running transaction.
    fn sync(&self, fs: &File) -> Kr<()>;
    /// Share `len` bytes of `src` at `src_off` into `dst` at `dst_off` (a reflink).
    fn clone_range(&self, src: &File, src_off: u64, len: u64, dst: &File, dst_off: u64) -> Kr<()>;
}

/// A UUID as text (8-4-4-4-12).
pub fn format_uuid(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qgroup_ids_pack_as_the_kernel_does() {
        let q = QgroupId { level: 1, id: 256 };
        assert_eq!(q.raw(), (1u64 << 48) | 256);
        assert_eq!(q.to_string(), "1/256");
    }

    #[test]
    fn uuids_print_as_text() {
        let u = [
            0xb6, 0xe1, 0x0b, 0x30, 0xa3, 0x03, 0x44, 0xe6, 0xb5, 0xf5, 0x7f, 0xe6, 0x75, 0xf3,
            0x00, 0x43,
        ];
        assert_eq!(format_uuid(&u), "b6e10b30-a303-44e6-b5f5-7fe675f30043");
    }
}
