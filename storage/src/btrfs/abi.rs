//! The kernel's side of the btrfs ioctls, as `linux/btrfs.h` declares it:
//! the request numbers, the flags Lumen passes, and `#[repr(C)]` copies of
//! the argument structs, each checked by size against the header's.
//!
//! Apart from `real` because these are transcriptions of C, to be checked
//! against the header line by line rather than read as Lumen's logic; the
//! one `unsafe` that hands such a struct to the kernel (`ioctl`) sits
//! beside the layouts it relies on.

use super::{KernelError, Kr};
use std::os::fd::RawFd;

pub(super) const IOC_SNAP_CREATE_V2: u64 = 0x5000_9417;
pub(super) const IOC_SUBVOL_CREATE_V2: u64 = 0x5000_9418;
pub(super) const IOC_SNAP_DESTROY: u64 = 0x5000_940f;
pub(super) const IOC_SUBVOL_GETFLAGS: u64 = 0x8008_9419;
pub(super) const IOC_SUBVOL_SETFLAGS: u64 = 0x4008_941a;
pub(super) const IOC_TREE_SEARCH: u64 = 0xd000_9411;
pub(super) const IOC_INO_LOOKUP: u64 = 0xd000_9412;
pub(super) const IOC_QUOTA_CTL: u64 = 0xc010_9428;
pub(super) const IOC_QGROUP_ASSIGN: u64 = 0x4018_9429;
pub(super) const IOC_QGROUP_CREATE: u64 = 0x4010_942a;
pub(super) const IOC_QGROUP_LIMIT: u64 = 0x8030_942b;
pub(super) const IOC_SEND: u64 = 0x4048_9426;
pub(super) const IOC_SET_RECEIVED_SUBVOL: u64 = 0xc0c8_9425;
pub(super) const IOC_SCRUB: u64 = 0xc400_941b;
pub(super) const IOC_DEV_INFO: u64 = 0xd000_941e;
pub(super) const IOC_FS_INFO: u64 = 0x8400_941f;
pub(super) const IOC_GET_DEV_STATS: u64 = 0xc408_9434;
pub(super) const IOC_SPACE_INFO: u64 = 0xc010_9414;
pub(super) const IOC_SYNC: u64 = 0x9408;
pub(super) const FICLONERANGE: u64 = 0x4020_940d;

/// `BTRFS_SUBVOL_RDONLY`.
pub(super) const SUBVOL_RDONLY: u64 = 1 << 1;
/// `BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA`.
pub(super) const QUOTA_CTL_ENABLE_SIMPLE: u64 = 4;
/// `BTRFS_QGROUP_LIMIT_MAX_RFER` / `_MAX_EXCL`.
pub(super) const LIMIT_MAX_RFER: u64 = 1;
pub(super) const LIMIT_MAX_EXCL: u64 = 2;

#[repr(C)]
pub(super) struct VolArgsV2 {
    pub(super) fd: i64,
    pub(super) transid: u64,
    pub(super) flags: u64,
    pub(super) unused: [u64; 4],
    pub(super) name: [u8; 4040],
}
const _: () = assert!(std::mem::size_of::<VolArgsV2>() == 4096);

#[repr(C)]
pub(super) struct VolArgs {
    pub(super) fd: i64,
    pub(super) name: [u8; 4088],
}
const _: () = assert!(std::mem::size_of::<VolArgs>() == 4096);

#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct SearchKey {
    pub(super) tree_id: u64,
    pub(super) min_objectid: u64,
    pub(super) max_objectid: u64,
    pub(super) min_offset: u64,
    pub(super) max_offset: u64,
    pub(super) min_transid: u64,
    pub(super) max_transid: u64,
    pub(super) min_type: u32,
    pub(super) max_type: u32,
    pub(super) nr_items: u32,
    pub(super) unused: u32,
    pub(super) unused1: u64,
    pub(super) unused2: u64,
    pub(super) unused3: u64,
    pub(super) unused4: u64,
}

#[repr(C)]
pub(super) struct SearchArgs {
    pub(super) key: SearchKey,
    pub(super) buf: [u8; 4096 - 104],
}
const _: () = assert!(std::mem::size_of::<SearchArgs>() == 4096);

#[repr(C)]
pub(super) struct InoLookupArgs {
    pub(super) treeid: u64,
    pub(super) objectid: u64,
    pub(super) name: [u8; 4080],
}
const _: () = assert!(std::mem::size_of::<InoLookupArgs>() == 4096);

#[repr(C)]
pub(super) struct QuotaCtlArgs {
    pub(super) cmd: u64,
    pub(super) status: u64,
}

#[repr(C)]
pub(super) struct QgroupAssignArgs {
    pub(super) assign: u64,
    pub(super) src: u64,
    pub(super) dst: u64,
}

#[repr(C)]
pub(super) struct QgroupCreateArgs {
    pub(super) create: u64,
    pub(super) qgroupid: u64,
}

#[repr(C)]
pub(super) struct QgroupLimitArgs {
    pub(super) qgroupid: u64,
    pub(super) flags: u64,
    pub(super) max_rfer: u64,
    pub(super) max_excl: u64,
    pub(super) rsv_rfer: u64,
    pub(super) rsv_excl: u64,
}
const _: () = assert!(std::mem::size_of::<QgroupLimitArgs>() == 0x30);

#[repr(C)]
pub(super) struct SendArgs {
    pub(super) send_fd: i64,
    pub(super) clone_sources_count: u64,
    pub(super) clone_sources: *const u64,
    pub(super) parent_root: u64,
    pub(super) flags: u64,
    pub(super) version: u32,
    pub(super) reserved: [u8; 28],
}
const _: () = assert!(std::mem::size_of::<SendArgs>() == 0x48);

#[repr(C)]
pub(super) struct ReceivedSubvolArgs {
    pub(super) uuid: [u8; 16],
    pub(super) stransid: u64,
    pub(super) rtransid: u64,
    // Two `struct btrfs_ioctl_timespec` (u64 sec, u32 nsec, padded to 16).
    pub(super) times: [u8; 32],
    pub(super) flags: u64,
    pub(super) reserved: [u64; 16],
}
const _: () = assert!(std::mem::size_of::<ReceivedSubvolArgs>() == 0xc8);

#[repr(C)]
pub(super) struct ScrubArgs {
    pub(super) devid: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) flags: u64,
    pub(super) progress: [u64; 15],
    pub(super) unused: [u64; (1024 - 32 - 120) / 8],
}
const _: () = assert!(std::mem::size_of::<ScrubArgs>() == 0x400);

#[repr(C)]
pub(super) struct FsInfoArgs {
    pub(super) max_id: u64,
    pub(super) num_devices: u64,
    pub(super) fsid: [u8; 16],
    pub(super) nodesize: u32,
    pub(super) sectorsize: u32,
    pub(super) clone_alignment: u32,
    pub(super) csum_type: u16,
    pub(super) csum_size: u16,
    pub(super) flags: u64,
    pub(super) generation: u64,
    pub(super) metadata_uuid: [u8; 16],
    pub(super) reserved: [u8; 944],
}
const _: () = assert!(std::mem::size_of::<FsInfoArgs>() == 0x400);

#[repr(C)]
pub(super) struct DevInfoArgs {
    pub(super) devid: u64,
    pub(super) uuid: [u8; 16],
    pub(super) bytes_used: u64,
    pub(super) total_bytes: u64,
    pub(super) fsid: [u8; 16],
    pub(super) unused: [u64; 377],
    pub(super) path: [u8; 1024],
}
const _: () = assert!(std::mem::size_of::<DevInfoArgs>() == 0x1000);

#[repr(C)]
pub(super) struct DevStatsArgs {
    pub(super) devid: u64,
    pub(super) nr_items: u64,
    pub(super) flags: u64,
    pub(super) values: [u64; 5],
    pub(super) unused: [u64; 121],
}
const _: () = assert!(std::mem::size_of::<DevStatsArgs>() == 0x408);

#[repr(C)]
pub(super) struct CloneRangeArgs {
    pub(super) src_fd: i64,
    pub(super) src_offset: u64,
    pub(super) src_length: u64,
    pub(super) dest_offset: u64,
}

/// A zeroed argument struct.
pub(super) fn zeroed<T>() -> Box<T> {
    // SAFETY: every struct above is plain integers and byte arrays (and
    // one pointer, null when zero), for which all-zero bytes are valid.
    unsafe { Box::new(std::mem::zeroed()) }
}

/// Issue ioctl `request` on `fd` with `arg`.
pub(super) fn ioctl<T>(
    fd: RawFd,
    request: u64,
    arg: *mut T,
    call: &'static str,
    what: &str,
) -> Kr<i32> {
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
pub(super) fn put_name(buf: &mut [u8], name: &str, call: &'static str) -> Kr<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
