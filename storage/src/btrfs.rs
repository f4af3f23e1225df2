//! Every call Lumen makes into btrfs, behind one trait ([`Btrfs`]) so that
//! error-injection tests can replace any of them ([`Faulty`]).
//!
//! The calls are the kernel's btrfs ioctls (`linux/btrfs.h`), made with
//! `libc::ioctl` on `#[repr(C)]` copies of the kernel's argument structs
//! (their sizes are checked at compile time against the header's), plus
//! the qgroup counters btrfs publishes in sysfs (fresher than the quota
//! tree, which is written only at transaction commit). Nothing here parses
//! the `btrfs` command's output.

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
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

// --- The kernel's argument structs (linux/btrfs.h), checked by size. ---

const IOC_SNAP_CREATE_V2: u64 = 0x5000_9417;
const IOC_SUBVOL_CREATE_V2: u64 = 0x5000_9418;
const IOC_SNAP_DESTROY: u64 = 0x5000_940f;
const IOC_SUBVOL_GETFLAGS: u64 = 0x8008_9419;
const IOC_SUBVOL_SETFLAGS: u64 = 0x4008_941a;
const IOC_TREE_SEARCH: u64 = 0xd000_9411;
const IOC_INO_LOOKUP: u64 = 0xd000_9412;
const IOC_QUOTA_CTL: u64 = 0xc010_9428;
const IOC_QGROUP_ASSIGN: u64 = 0x4018_9429;
const IOC_QGROUP_CREATE: u64 = 0x4010_942a;
const IOC_QGROUP_LIMIT: u64 = 0x8030_942b;
const IOC_SEND: u64 = 0x4048_9426;
const IOC_SET_RECEIVED_SUBVOL: u64 = 0xc0c8_9425;
const IOC_SCRUB: u64 = 0xc400_941b;
const IOC_DEV_INFO: u64 = 0xd000_941e;
const IOC_FS_INFO: u64 = 0x8400_941f;
const IOC_GET_DEV_STATS: u64 = 0xc408_9434;
const IOC_SPACE_INFO: u64 = 0xc010_9414;
const IOC_SYNC: u64 = 0x9408;
const FICLONERANGE: u64 = 0x4020_940d;

/// `BTRFS_SUBVOL_RDONLY`.
const SUBVOL_RDONLY: u64 = 1 << 1;
/// `BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA`.
const QUOTA_CTL_ENABLE_SIMPLE: u64 = 4;
/// `BTRFS_QGROUP_LIMIT_MAX_RFER` / `_MAX_EXCL`.
const LIMIT_MAX_RFER: u64 = 1;
const LIMIT_MAX_EXCL: u64 = 2;
/// The root tree, and its item types.
const ROOT_TREE: u64 = 1;
const ROOT_ITEM_KEY: u32 = 132;
const ROOT_BACKREF_KEY: u32 = 144;
/// The quota tree, and its relation items.
const QUOTA_TREE: u64 = 8;
const QGROUP_RELATION_KEY: u32 = 246;
/// The first subvolume id after the top level's (5).
const FIRST_FREE_OBJECTID: u64 = 256;
const LAST_FREE_OBJECTID: u64 = u64::MAX - 256;

#[repr(C)]
struct VolArgsV2 {
    fd: i64,
    transid: u64,
    flags: u64,
    unused: [u64; 4],
    name: [u8; 4040],
}
const _: () = assert!(std::mem::size_of::<VolArgsV2>() == 4096);

#[repr(C)]
struct VolArgs {
    fd: i64,
    name: [u8; 4088],
}
const _: () = assert!(std::mem::size_of::<VolArgs>() == 4096);

#[repr(C)]
#[derive(Clone, Copy)]
struct SearchKey {
    tree_id: u64,
    min_objectid: u64,
    max_objectid: u64,
    min_offset: u64,
    max_offset: u64,
    min_transid: u64,
    max_transid: u64,
    min_type: u32,
    max_type: u32,
    nr_items: u32,
    unused: u32,
    unused1: u64,
    unused2: u64,
    unused3: u64,
    unused4: u64,
}

#[repr(C)]
struct SearchArgs {
    key: SearchKey,
    buf: [u8; 4096 - 104],
}
const _: () = assert!(std::mem::size_of::<SearchArgs>() == 4096);

#[repr(C)]
struct InoLookupArgs {
    treeid: u64,
    objectid: u64,
    name: [u8; 4080],
}
const _: () = assert!(std::mem::size_of::<InoLookupArgs>() == 4096);

#[repr(C)]
struct QuotaCtlArgs {
    cmd: u64,
    status: u64,
}

#[repr(C)]
struct QgroupAssignArgs {
    assign: u64,
    src: u64,
    dst: u64,
}

#[repr(C)]
struct QgroupCreateArgs {
    create: u64,
    qgroupid: u64,
}

#[repr(C)]
struct QgroupLimitArgs {
    qgroupid: u64,
    flags: u64,
    max_rfer: u64,
    max_excl: u64,
    rsv_rfer: u64,
    rsv_excl: u64,
}
const _: () = assert!(std::mem::size_of::<QgroupLimitArgs>() == 0x30);

#[repr(C)]
struct SendArgs {
    send_fd: i64,
    clone_sources_count: u64,
    clone_sources: *const u64,
    parent_root: u64,
    flags: u64,
    version: u32,
    reserved: [u8; 28],
}
const _: () = assert!(std::mem::size_of::<SendArgs>() == 0x48);

#[repr(C)]
struct ReceivedSubvolArgs {
    uuid: [u8; 16],
    stransid: u64,
    rtransid: u64,
    // Two `struct btrfs_ioctl_timespec` (u64 sec, u32 nsec, padded to 16).
    times: [u8; 32],
    flags: u64,
    reserved: [u64; 16],
}
const _: () = assert!(std::mem::size_of::<ReceivedSubvolArgs>() == 0xc8);

#[repr(C)]
struct ScrubArgs {
    devid: u64,
    start: u64,
    end: u64,
    flags: u64,
    progress: [u64; 15],
    unused: [u64; (1024 - 32 - 120) / 8],
}
const _: () = assert!(std::mem::size_of::<ScrubArgs>() == 0x400);

#[repr(C)]
struct FsInfoArgs {
    max_id: u64,
    num_devices: u64,
    fsid: [u8; 16],
    nodesize: u32,
    sectorsize: u32,
    clone_alignment: u32,
    csum_type: u16,
    csum_size: u16,
    flags: u64,
    generation: u64,
    metadata_uuid: [u8; 16],
    reserved: [u8; 944],
}
const _: () = assert!(std::mem::size_of::<FsInfoArgs>() == 0x400);

#[repr(C)]
struct DevInfoArgs {
    devid: u64,
    uuid: [u8; 16],
    bytes_used: u64,
    total_bytes: u64,
    fsid: [u8; 16],
    unused: [u64; 377],
    path: [u8; 1024],
}
const _: () = assert!(std::mem::size_of::<DevInfoArgs>() == 0x1000);

#[repr(C)]
struct DevStatsArgs {
    devid: u64,
    nr_items: u64,
    flags: u64,
    values: [u64; 5],
    unused: [u64; 121],
}
const _: () = assert!(std::mem::size_of::<DevStatsArgs>() == 0x408);

#[repr(C)]
struct CloneRangeArgs {
    src_fd: i64,
    src_offset: u64,
    src_length: u64,
    dest_offset: u64,
}

/// A zeroed argument struct.
fn zeroed<T>() -> Box<T> {
    // SAFETY: every struct above is plain integers and byte arrays (and
    // one pointer, null when zero), for which all-zero bytes are valid.
    unsafe { Box::new(std::mem::zeroed()) }
}

/// Issue ioctl `request` on `fd` with `arg`.
fn ioctl<T>(fd: RawFd, request: u64, arg: *mut T, call: &'static str, what: &str) -> Kr<i32> {
    // SAFETY: `arg` points to a live struct of the layout the kernel
    // expects for `request` (sizes asserted above).
    let r = unsafe { libc::ioctl(fd, request as _, arg) };
    if r < 0 {
        return Err(KernelError {
            call,
            what: what.to_string(),
            errno: std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        });
    }
    Ok(r)
}

/// Copy `name` into a kernel name buffer, NUL-terminated.
fn put_name(buf: &mut [u8], name: &str, call: &'static str) -> Kr<()> {
    if name.len() >= buf.len() || name.contains('\0') || name.contains('/') {
        return Err(KernelError {
            call,
            what: name.to_string(),
            errno: libc::EINVAL,
        });
    }
    buf[..name.len()].copy_from_slice(name.as_bytes());
    Ok(())
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        x.copy_from_slice(s);
    }
    u64::from_le_bytes(x)
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        x.copy_from_slice(s);
    }
    u32::from_le_bytes(x)
}

fn uuid_at(b: &[u8], at: usize) -> [u8; 16] {
    let mut u = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        u.copy_from_slice(s);
    }
    u
}

/// One item of a tree search: its key and data.
struct Item {
    objectid: u64,
    offset: u64,
    kind: u32,
    data: Vec<u8>,
}

/// All items of `tree` with type in `types` (one type range), in key order.
fn tree_search(fs: &File, tree: u64, objectids: (u64, u64), types: (u32, u32)) -> Kr<Vec<Item>> {
    let mut args = zeroed::<SearchArgs>();
    let mut items = Vec::new();
    let (mut min_objectid, mut min_type, mut min_offset) = (objectids.0, types.0, 0u64);
    loop {
        args.key = SearchKey {
            tree_id: tree,
            min_objectid,
            max_objectid: objectids.1,
            min_offset,
            max_offset: u64::MAX,
            min_transid: 0,
            max_transid: u64::MAX,
            min_type,
            max_type: types.1,
            nr_items: 4096,
            unused: 0,
            unused1: 0,
            unused2: 0,
            unused3: 0,
            unused4: 0,
        };
        ioctl(
            fs.as_raw_fd(),
            IOC_TREE_SEARCH,
            &mut *args,
            "BTRFS_IOC_TREE_SEARCH",
            "the root tree",
        )?;
        let n = args.key.nr_items;
        if n == 0 {
            return Ok(items);
        }
        let mut at = 0usize;
        let (mut last_obj, mut last_type, mut last_off) = (0, 0, 0);
        for _ in 0..n {
            let objectid = le64(&args.buf, at + 8);
            let offset = le64(&args.buf, at + 16);
            let kind = le32(&args.buf, at + 24);
            let len = le32(&args.buf, at + 28) as usize;
            let data = args
                .buf
                .get(at + 32..at + 32 + len)
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
            at += 32 + len;
            (last_obj, last_type, last_off) = (objectid, kind, offset);
            // The search is over the key range (objectid, type, offset), so
            // items of other types between the bounds come too.
            if kind >= types.0 && kind <= types.1 {
                items.push(Item {
                    objectid,
                    offset,
                    kind,
                    data,
                });
            }
        }
        // Resume after the last key returned.
        if last_off < u64::MAX {
            (min_objectid, min_type, min_offset) = (last_obj, last_type, last_off + 1);
        } else if last_type < types.1 {
            (min_objectid, min_type, min_offset) = (last_obj, last_type + 1, 0);
        } else if last_obj < objectids.1 {
            (min_objectid, min_type, min_offset) = (last_obj + 1, types.0, 0);
        } else {
            return Ok(items);
        }
    }
}

/// The path of directory `dirid` inside subvolume `tree`, relative to its
/// root ("" for the root itself), as `BTRFS_IOC_INO_LOOKUP` gives it.
fn ino_path(fs: &File, tree: u64, dirid: u64) -> Kr<String> {
    if dirid == FIRST_FREE_OBJECTID {
        return Ok(String::new());
    }
    let mut args = zeroed::<InoLookupArgs>();
    args.treeid = tree;
    args.objectid = dirid;
    ioctl(
        fs.as_raw_fd(),
        IOC_INO_LOOKUP,
        &mut *args,
        "BTRFS_IOC_INO_LOOKUP",
        &format!("directory {dirid} of subvolume {tree}"),
    )?;
    let name = CStr::from_bytes_until_nul(&args.name)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(name.trim_end_matches('/').to_string())
}

/// The real thing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Real;

impl Btrfs for Real {
    fn subvol_create(&self, parent: &File, name: &str) -> Kr<()> {
        let mut args = zeroed::<VolArgsV2>();
        put_name(&mut args.name, name, "BTRFS_IOC_SUBVOL_CREATE_V2")?;
        ioctl(
            parent.as_raw_fd(),
            IOC_SUBVOL_CREATE_V2,
            &mut *args,
            "BTRFS_IOC_SUBVOL_CREATE_V2",
            name,
        )
        .map(drop)
    }

    fn snapshot(&self, source: &File, parent: &File, name: &str, read_only: bool) -> Kr<()> {
        let mut args = zeroed::<VolArgsV2>();
        args.fd = i64::from(source.as_raw_fd());
        if read_only {
            args.flags = SUBVOL_RDONLY;
        }
        put_name(&mut args.name, name, "BTRFS_IOC_SNAP_CREATE_V2")?;
        ioctl(
            parent.as_raw_fd(),
            IOC_SNAP_CREATE_V2,
            &mut *args,
            "BTRFS_IOC_SNAP_CREATE_V2",
            name,
        )
        .map(drop)
    }

    fn subvol_destroy(&self, parent: &File, name: &str) -> Kr<()> {
        let mut args = zeroed::<VolArgs>();
        put_name(&mut args.name, name, "BTRFS_IOC_SNAP_DESTROY")?;
        ioctl(
            parent.as_raw_fd(),
            IOC_SNAP_DESTROY,
            &mut *args,
            "BTRFS_IOC_SNAP_DESTROY",
            name,
        )
        .map(drop)
    }

    fn read_only(&self, subvol: &File) -> Kr<bool> {
        let mut flags = 0u64;
        ioctl(
            subvol.as_raw_fd(),
            IOC_SUBVOL_GETFLAGS,
            &mut flags,
            "BTRFS_IOC_SUBVOL_GETFLAGS",
            "a subvolume",
        )?;
        Ok(flags & SUBVOL_RDONLY != 0)
    }

    fn set_read_only(&self, subvol: &File, read_only: bool) -> Kr<()> {
        let mut flags = 0u64;
        ioctl(
            subvol.as_raw_fd(),
            IOC_SUBVOL_GETFLAGS,
            &mut flags,
            "BTRFS_IOC_SUBVOL_GETFLAGS",
            "a subvolume",
        )?;
        flags = if read_only {
            flags | SUBVOL_RDONLY
        } else {
            flags & !SUBVOL_RDONLY
        };
        ioctl(
            subvol.as_raw_fd(),
            IOC_SUBVOL_SETFLAGS,
            &mut flags,
            "BTRFS_IOC_SUBVOL_SETFLAGS",
            "a subvolume",
        )
        .map(drop)
    }

    fn subvol_id(&self, dir: &File) -> Kr<u64> {
        let mut args = zeroed::<InoLookupArgs>();
        args.objectid = FIRST_FREE_OBJECTID;
        ioctl(
            dir.as_raw_fd(),
            IOC_INO_LOOKUP,
            &mut *args,
            "BTRFS_IOC_INO_LOOKUP",
            "a directory's subvolume",
        )?;
        Ok(args.treeid)
    }

    fn subvolumes(&self, fs: &File) -> Kr<Vec<SubvolRecord>> {
        use std::collections::HashMap;
        // Root items (ids, uuids, flags, times) and back references
        // (where each subvolume sits), in one pass over the root tree.
        let items = tree_search(
            fs,
            ROOT_TREE,
            (0, u64::MAX),
            (ROOT_ITEM_KEY, ROOT_BACKREF_KEY),
        )?;
        let mut roots: HashMap<u64, SubvolRecord> = HashMap::new();
        let mut refs: HashMap<u64, (u64, u64, String)> = HashMap::new();
        for it in items {
            let is_fs_tree = it.objectid == 5
                || (FIRST_FREE_OBJECTID..=LAST_FREE_OBJECTID).contains(&it.objectid);
            if !is_fs_tree {
                continue;
            }
            match it.kind {
                ROOT_ITEM_KEY if it.data.len() >= 351 => {
                    let d = &it.data;
                    roots.insert(
                        it.objectid,
                        SubvolRecord {
                            id: it.objectid,
                            path: String::new(),
                            parent: 0,
                            generation: le64(d, 160),
                            read_only: le64(d, 208) & 1 != 0,
                            uuid: uuid_at(d, 247),
                            parent_uuid: uuid_at(d, 263),
                            received_uuid: uuid_at(d, 279),
                            ctransid: le64(d, 295),
                            otransid: le64(d, 303),
                            otime: le64(d, 339),
                            otime_nsec: le32(d, 347),
                        },
                    );
                }
                ROOT_BACKREF_KEY if it.data.len() >= 18 => {
                    let dirid = le64(&it.data, 0);
                    let len = u16::from_le_bytes([it.data[16], it.data[17]]) as usize;
                    let name = it
                        .data
                        .get(18..18 + len)
                        .map(|n| String::from_utf8_lossy(n).into_owned())
                        .unwrap_or_default();
                    refs.insert(it.objectid, (it.offset, dirid, name));
                }
                _ => {}
            }
        }
        // Paths: a subvolume's is its parent's, the directory it sits in
        // (looked up once per directory), and its name. Deleted subvolumes
        // awaiting cleanup have no back reference and are left out.
        let mut dir_paths: HashMap<(u64, u64), String> = HashMap::new();
        let mut paths: HashMap<u64, String> = HashMap::new();
        paths.insert(5, String::new());
        fn path_of(
            id: u64,
            fs: &File,
            refs: &HashMap<u64, (u64, u64, String)>,
            paths: &mut HashMap<u64, String>,
            dir_paths: &mut HashMap<(u64, u64), String>,
            depth: usize,
        ) -> Kr<Option<String>> {
            if let Some(p) = paths.get(&id) {
                return Ok(Some(p.clone()));
            }
            let Some((parent, dirid, name)) = refs.get(&id) else {
                return Ok(None);
            };
            if depth > 512 {
                return Ok(None);
            }
            let Some(parent_path) = path_of(*parent, fs, refs, paths, dir_paths, depth + 1)? else {
                return Ok(None);
            };
            let dir = match dir_paths.get(&(*parent, *dirid)) {
                Some(d) => d.clone(),
                None => {
                    let d = ino_path(fs, *parent, *dirid)?;
                    dir_paths.insert((*parent, *dirid), d.clone());
                    d
                }
            };
            let mut p = parent_path;
            for part in [dir.as_str(), name.as_str()] {
                if part.is_empty() {
                    continue;
                }
                if !p.is_empty() {
                    p.push('/');
                }
                p.push_str(part);
            }
            paths.insert(id, p.clone());
            Ok(Some(p))
        }
        let mut out = Vec::new();
        let ids: Vec<u64> = roots.keys().copied().collect();
        for id in ids {
            let Some(path) = path_of(id, fs, &refs, &mut paths, &mut dir_paths, 0)? else {
                continue;
            };
            if let Some(mut r) = roots.remove(&id) {
                r.path = path;
                r.parent = refs.get(&id).map_or(0, |x| x.0);
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn quota_enable(&self, fs: &File) -> Kr<()> {
        let mut args = QuotaCtlArgs {
            cmd: QUOTA_CTL_ENABLE_SIMPLE,
            status: 0,
        };
        ioctl(
            fs.as_raw_fd(),
            IOC_QUOTA_CTL,
            &mut args,
            "BTRFS_IOC_QUOTA_CTL",
            "enabling simple quotas",
        )
        .map(drop)
    }

    fn qgroup_create(&self, fs: &File, id: QgroupId, create: bool) -> Kr<()> {
        let mut args = QgroupCreateArgs {
            create: u64::from(create),
            qgroupid: id.raw(),
        };
        ioctl(
            fs.as_raw_fd(),
            IOC_QGROUP_CREATE,
            &mut args,
            "BTRFS_IOC_QGROUP_CREATE",
            &format!("qgroup {id}"),
        )
        .map(drop)
    }

    fn qgroup_assign(&self, fs: &File, member: QgroupId, parent: QgroupId, assign: bool) -> Kr<()> {
        let mut args = QgroupAssignArgs {
            assign: u64::from(assign),
            src: member.raw(),
            dst: parent.raw(),
        };
        let r = ioctl(
            fs.as_raw_fd(),
            IOC_QGROUP_ASSIGN,
            &mut args,
            "BTRFS_IOC_QGROUP_ASSIGN",
            &format!("qgroup {member} in {parent}"),
        )?;
        // A positive return asks for a rescan: the numbers could not be
        // carried over. Simple quotas never need one; say so if they do.
        if r > 0 {
            return Err(KernelError {
                call: "BTRFS_IOC_QGROUP_ASSIGN",
                what: format!("qgroup {member} in {parent} (the kernel asks for a rescan)"),
                errno: libc::EUCLEAN,
            });
        }
        Ok(())
    }

    fn qgroup_limit(
        &self,
        fs: &File,
        id: QgroupId,
        max_referenced: Option<u64>,
        max_exclusive: Option<u64>,
    ) -> Kr<()> {
        // The kernel clears a limit given as 0 with its flag set... but
        // refuses nothing: "none" is u64::MAX, as btrfs-progs sends it.
        let mut args = QgroupLimitArgs {
            qgroupid: id.raw(),
            flags: LIMIT_MAX_RFER | LIMIT_MAX_EXCL,
            max_rfer: max_referenced.unwrap_or(u64::MAX),
            max_excl: max_exclusive.unwrap_or(u64::MAX),
            rsv_rfer: 0,
            rsv_excl: 0,
        };
        ioctl(
            fs.as_raw_fd(),
            IOC_QGROUP_LIMIT,
            &mut args,
            "BTRFS_IOC_QGROUP_LIMIT",
            &format!("qgroup {id}"),
        )
        .map(drop)
    }

    fn qgroup_members(&self, fs: &File, parent: QgroupId) -> Kr<Vec<QgroupId>> {
        let items = tree_search(
            fs,
            QUOTA_TREE,
            (parent.raw(), parent.raw()),
            (QGROUP_RELATION_KEY, QGROUP_RELATION_KEY),
        )?;
        Ok(items
            .iter()
            .map(|it| QgroupId {
                level: (it.offset >> 48) as u16,
                id: it.offset & ((1 << 48) - 1),
            })
            .filter(|m| m.level < parent.level)
            .collect())
    }

    fn qgroups(&self, fsid: &[u8; 16], level: u16) -> Kr<Vec<QgroupId>> {
        let dir = PathBuf::from(format!("/sys/fs/btrfs/{}/qgroups", format_uuid(fsid)));
        let entries = std::fs::read_dir(&dir).map_err(|e| KernelError {
            call: "readdir",
            what: dir.display().to_string(),
            errno: e.raw_os_error().unwrap_or(libc::EIO),
        })?;
        Ok(entries
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().into_string().ok()?;
                let (l, id) = n.split_once('_')?;
                Some(QgroupId {
                    level: l.parse().ok()?,
                    id: id.parse().ok()?,
                })
            })
            .filter(|q| q.level == level)
            .collect())
    }

    fn qgroup_usage(&self, fsid: &[u8; 16], id: QgroupId) -> Kr<Option<QgroupUsage>> {
        let dir = PathBuf::from(format!(
            "/sys/fs/btrfs/{}/qgroups/{}_{}",
            format_uuid(fsid),
            id.level,
            id.id
        ));
        if !dir.is_dir() {
            return Ok(None);
        }
        let read = |f: &str| -> Kr<u64> {
            let p = dir.join(f);
            let text = std::fs::read_to_string(&p).map_err(|e| KernelError {
                call: "read",
                what: p.display().to_string(),
                errno: e.raw_os_error().unwrap_or(libc::EIO),
            })?;
            text.trim().parse().map_err(|_| KernelError {
                call: "read",
                what: format!("{}: {:?} is not a number", p.display(), text.trim()),
                errno: libc::EINVAL,
            })
        };
        let flags = read("limit_flags")?;
        // Only the limits that are set are read: a listing of a thousand
        // datasets reads thousands of these files.
        let limit = |bit: u64, file: &str| -> Kr<Option<u64>> {
            if flags & bit == 0 {
                return Ok(None);
            }
            let v = read(file)?;
            Ok((v != u64::MAX && v != 0).then_some(v))
        };
        Ok(Some(QgroupUsage {
            referenced: read("referenced")?,
            exclusive: read("exclusive")?,
            max_referenced: limit(LIMIT_MAX_RFER, "max_referenced")?,
            max_exclusive: limit(LIMIT_MAX_EXCL, "max_exclusive")?,
        }))
    }

    fn send(&self, subvol: &File, out: RawFd, parent: Option<u64>, flags: u64) -> Kr<()> {
        let sources: Vec<u64> = parent.into_iter().collect();
        let mut args = SendArgs {
            send_fd: i64::from(out),
            clone_sources_count: sources.len() as u64,
            clone_sources: if sources.is_empty() {
                std::ptr::null()
            } else {
                sources.as_ptr()
            },
            parent_root: parent.unwrap_or(0),
            flags,
            version: 0,
            reserved: [0; 28],
        };
        ioctl(
            subvol.as_raw_fd(),
            IOC_SEND,
            &mut args,
            "BTRFS_IOC_SEND",
            "a snapshot",
        )
        .map(drop)
    }

    fn set_received(&self, subvol: &File, uuid: [u8; 16], stransid: u64) -> Kr<()> {
        let mut args = zeroed::<ReceivedSubvolArgs>();
        args.uuid = uuid;
        args.stransid = stransid;
        ioctl(
            subvol.as_raw_fd(),
            IOC_SET_RECEIVED_SUBVOL,
            &mut *args,
            "BTRFS_IOC_SET_RECEIVED_SUBVOL",
            "a received subvolume",
        )
        .map(drop)
    }

    fn scrub(&self, fs: &File, devid: u64) -> Kr<ScrubProgress> {
        let mut args = zeroed::<ScrubArgs>();
        args.devid = devid;
        args.end = u64::MAX;
        ioctl(
            fs.as_raw_fd(),
            IOC_SCRUB,
            &mut *args,
            "BTRFS_IOC_SCRUB",
            &format!("device {devid}"),
        )?;
        let p = &args.progress;
        Ok(ScrubProgress {
            data_bytes_scrubbed: p[2],
            tree_bytes_scrubbed: p[3],
            read_errors: p[4],
            csum_errors: p[5],
            verify_errors: p[6],
            uncorrectable_errors: p[11],
            corrected_errors: p[12],
        })
    }

    fn fs_info(&self, fs: &File) -> Kr<FsInfo> {
        let mut args = zeroed::<FsInfoArgs>();
        ioctl(
            fs.as_raw_fd(),
            IOC_FS_INFO,
            &mut *args,
            "BTRFS_IOC_FS_INFO",
            "the pool",
        )?;
        Ok(FsInfo {
            max_id: args.max_id,
            num_devices: args.num_devices,
            fsid: args.fsid,
            generation: args.generation,
        })
    }

    fn dev_info(&self, fs: &File, devid: u64) -> Kr<DevInfo> {
        let mut args = zeroed::<DevInfoArgs>();
        args.devid = devid;
        ioctl(
            fs.as_raw_fd(),
            IOC_DEV_INFO,
            &mut *args,
            "BTRFS_IOC_DEV_INFO",
            &format!("device {devid}"),
        )?;
        let path = CStr::from_bytes_until_nul(&args.path)
            .map(|c| PathBuf::from(c.to_string_lossy().into_owned()))
            .unwrap_or_default();
        Ok(DevInfo {
            devid: args.devid,
            bytes_used: args.bytes_used,
            total_bytes: args.total_bytes,
            path,
        })
    }

    fn dev_stats(&self, fs: &File, devid: u64) -> Kr<DevStats> {
        let mut args = zeroed::<DevStatsArgs>();
        args.devid = devid;
        args.nr_items = 5;
        ioctl(
            fs.as_raw_fd(),
            IOC_GET_DEV_STATS,
            &mut *args,
            "BTRFS_IOC_GET_DEV_STATS",
            &format!("device {devid}"),
        )?;
        let v = args.values;
        Ok(DevStats {
            write_errs: v[0],
            read_errs: v[1],
            flush_errs: v[2],
            corruption_errs: v[3],
            generation_errs: v[4],
        })
    }

    fn space_info(&self, fs: &File) -> Kr<Vec<SpaceInfo>> {
        // First ask how many, then read them (header: slots, total).
        let mut head = [0u64; 2];
        ioctl(
            fs.as_raw_fd(),
            IOC_SPACE_INFO,
            &mut head,
            "BTRFS_IOC_SPACE_INFO",
            "the pool",
        )?;
        let n = head[1] as usize;
        let mut buf = vec![0u64; 2 + 3 * n];
        buf[0] = n as u64;
        ioctl(
            fs.as_raw_fd(),
            IOC_SPACE_INFO,
            buf.as_mut_ptr(),
            "BTRFS_IOC_SPACE_INFO",
            "the pool",
        )?;
        let got = (buf[1] as usize).min(n);
        Ok((0..got)
            .map(|i| SpaceInfo {
                flags: buf[2 + 3 * i],
                total_bytes: buf[3 + 3 * i],
                used_bytes: buf[4 + 3 * i],
            })
            .collect())
    }

    fn sync(&self, fs: &File) -> Kr<()> {
        // SAFETY: BTRFS_IOC_SYNC takes no argument.
        let r = unsafe { libc::ioctl(fs.as_raw_fd(), IOC_SYNC as _, 0) };
        if r < 0 {
            return Err(KernelError {
                call: "BTRFS_IOC_SYNC",
                what: "the pool".into(),
                errno: std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EIO),
            });
        }
        Ok(())
    }

    fn clone_range(&self, src: &File, src_off: u64, len: u64, dst: &File, dst_off: u64) -> Kr<()> {
        let mut args = CloneRangeArgs {
            src_fd: i64::from(src.as_raw_fd()),
            src_offset: src_off,
            src_length: len,
            dest_offset: dst_off,
        };
        ioctl(
            dst.as_raw_fd(),
            FICLONERANGE,
            &mut args,
            "FICLONERANGE",
            "a cloned extent",
        )
        .map(drop)
    }
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

/// Wraps [`Real`] and fails the `n`th call (counting from 1) to `call`
/// (the trait method's name) with `errno`: for tests of what a failure
/// half way leaves behind.
pub struct Faulty {
    /// The method that fails.
    pub call: &'static str,
    /// Which call of it fails.
    pub nth: usize,
    /// With what.
    pub errno: i32,
    count: std::sync::atomic::AtomicUsize,
}

impl Faulty {
    /// Fail the `nth` call to `call` with `errno`.
    pub fn new(call: &'static str, nth: usize, errno: i32) -> Faulty {
        Faulty {
            call,
            nth,
            errno,
            count: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn check(&self, call: &'static str) -> Kr<()> {
        if call == self.call {
            let n = self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            if n == self.nth {
                return Err(KernelError {
                    call,
                    what: "(injected)".into(),
                    errno: self.errno,
                });
            }
        }
        Ok(())
    }
}

impl Btrfs for Faulty {
    fn subvol_create(&self, parent: &File, name: &str) -> Kr<()> {
        self.check("subvol_create")?;
        Real.subvol_create(parent, name)
    }
    fn snapshot(&self, source: &File, parent: &File, name: &str, read_only: bool) -> Kr<()> {
        self.check("snapshot")?;
        Real.snapshot(source, parent, name, read_only)
    }
    fn subvol_destroy(&self, parent: &File, name: &str) -> Kr<()> {
        self.check("subvol_destroy")?;
        Real.subvol_destroy(parent, name)
    }
    fn read_only(&self, subvol: &File) -> Kr<bool> {
        self.check("read_only")?;
        Real.read_only(subvol)
    }
    fn set_read_only(&self, subvol: &File, read_only: bool) -> Kr<()> {
        self.check("set_read_only")?;
        Real.set_read_only(subvol, read_only)
    }
    fn subvol_id(&self, dir: &File) -> Kr<u64> {
        self.check("subvol_id")?;
        Real.subvol_id(dir)
    }
    fn subvolumes(&self, fs: &File) -> Kr<Vec<SubvolRecord>> {
        self.check("subvolumes")?;
        Real.subvolumes(fs)
    }
    fn quota_enable(&self, fs: &File) -> Kr<()> {
        self.check("quota_enable")?;
        Real.quota_enable(fs)
    }
    fn qgroup_create(&self, fs: &File, id: QgroupId, create: bool) -> Kr<()> {
        self.check("qgroup_create")?;
        Real.qgroup_create(fs, id, create)
    }
    fn qgroup_assign(&self, fs: &File, member: QgroupId, parent: QgroupId, assign: bool) -> Kr<()> {
        self.check("qgroup_assign")?;
        Real.qgroup_assign(fs, member, parent, assign)
    }
    fn qgroup_limit(
        &self,
        fs: &File,
        id: QgroupId,
        max_referenced: Option<u64>,
        max_exclusive: Option<u64>,
    ) -> Kr<()> {
        self.check("qgroup_limit")?;
        Real.qgroup_limit(fs, id, max_referenced, max_exclusive)
    }
    fn qgroup_members(&self, fs: &File, parent: QgroupId) -> Kr<Vec<QgroupId>> {
        self.check("qgroup_members")?;
        Real.qgroup_members(fs, parent)
    }
    fn qgroups(&self, fsid: &[u8; 16], level: u16) -> Kr<Vec<QgroupId>> {
        self.check("qgroups")?;
        Real.qgroups(fsid, level)
    }
    fn qgroup_usage(&self, fsid: &[u8; 16], id: QgroupId) -> Kr<Option<QgroupUsage>> {
        self.check("qgroup_usage")?;
        Real.qgroup_usage(fsid, id)
    }
    fn send(&self, subvol: &File, out: RawFd, parent: Option<u64>, flags: u64) -> Kr<()> {
        self.check("send")?;
        Real.send(subvol, out, parent, flags)
    }
    fn set_received(&self, subvol: &File, uuid: [u8; 16], stransid: u64) -> Kr<()> {
        self.check("set_received")?;
        Real.set_received(subvol, uuid, stransid)
    }
    fn scrub(&self, fs: &File, devid: u64) -> Kr<ScrubProgress> {
        self.check("scrub")?;
        Real.scrub(fs, devid)
    }
    fn fs_info(&self, fs: &File) -> Kr<FsInfo> {
        self.check("fs_info")?;
        Real.fs_info(fs)
    }
    fn dev_info(&self, fs: &File, devid: u64) -> Kr<DevInfo> {
        self.check("dev_info")?;
        Real.dev_info(fs, devid)
    }
    fn dev_stats(&self, fs: &File, devid: u64) -> Kr<DevStats> {
        self.check("dev_stats")?;
        Real.dev_stats(fs, devid)
    }
    fn space_info(&self, fs: &File) -> Kr<Vec<SpaceInfo>> {
        self.check("space_info")?;
        Real.space_info(fs)
    }
    fn sync(&self, fs: &File) -> Kr<()> {
        self.check("sync")?;
        Real.sync(fs)
    }
    fn clone_range(&self, src: &File, src_off: u64, len: u64, dst: &File, dst_off: u64) -> Kr<()> {
        self.check("clone_range")?;
        Real.clone_range(src, src_off, len, dst, dst_off)
    }
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

    #[test]
    fn names_with_a_slash_never_reach_the_kernel() {
        let mut buf = [0u8; 16];
        assert_eq!(
            put_name(&mut buf, "a/b", "x").unwrap_err().errno,
            libc::EINVAL
        );
        assert_eq!(
            put_name(&mut buf, &"x".repeat(16), "x").unwrap_err().errno,
            libc::EINVAL
        );
        put_name(&mut buf, "ok", "x").expect("fits");
        assert_eq!(&buf[..3], b"ok\0");
    }

    #[test]
    fn a_faulty_kernel_fails_the_nth_call_only() {
        let f = Faulty::new("sync", 2, libc::EIO);
        assert!(f.check("sync").is_ok());
        assert!(f.check("subvol_create").is_ok());
        assert_eq!(f.check("sync").unwrap_err().errno, libc::EIO);
        assert!(f.check("sync").is_ok());
    }
}
