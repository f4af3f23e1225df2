//! Reading btrfs's own trees (`linux/btrfs_tree.h`): the keys of the root
//! and quota trees' items, `BTRFS_IOC_TREE_SEARCH` over a key range (with
//! its resume after each batch), and a directory's path inside its
//! subvolume (`BTRFS_IOC_INO_LOOKUP`).
//!
//! Apart from `real` because what comes back is not an ioctl struct but a
//! buffer of tree items, decoded by hand (little-endian fields at fixed
//! offsets), and the search's resume after each batch is a puzzle of its
//! own.

use super::abi::{
    ioctl, zeroed, InoLookupArgs, SearchArgs, SearchKey, IOC_INO_LOOKUP, IOC_TREE_SEARCH,
};
use super::Kr;
use std::ffi::CStr;
use std::fs::File;
use std::os::fd::AsRawFd;

/// The root tree, and its item types.
pub(super) const ROOT_TREE: u64 = 1;
pub(super) const ROOT_ITEM_KEY: u32 = 132;
pub(super) const ROOT_BACKREF_KEY: u32 = 144;
/// The quota tree, and its relation items.
pub(super) const QUOTA_TREE: u64 = 8;
pub(super) const QGROUP_RELATION_KEY: u32 = 246;
/// The first subvolume id after the top level's (5).
pub(super) const FIRST_FREE_OBJECTID: u64 = 256;
pub(super) const LAST_FREE_OBJECTID: u64 = u64::MAX - 256;

// Little-endian fields of an item's data; bytes past its end read as 0,
// so a short item yields zeros rather than a panic.

pub(super) fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        x.copy_from_slice(s);
    }
    u64::from_le_bytes(x)
}

pub(super) fn le32(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        x.copy_from_slice(s);
    }
    u32::from_le_bytes(x)
}

pub(super) fn uuid_at(b: &[u8], at: usize) -> [u8; 16] {
    let mut u = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        u.copy_from_slice(s);
    }
    u
}

/// One item of a tree search: its key and data.
pub(super) struct Item {
    pub(super) objectid: u64,
    pub(super) offset: u64,
    pub(super) kind: u32,
    pub(super) data: Vec<u8>,
}

/// All items of `tree` with type in `types` (one type range), in key order.
pub(super) fn tree_search(
    fs: &File,
    tree: u64,
    objectids: (u64, u64),
    types: (u32, u32),
) -> Kr<Vec<Item>> {
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
pub(super) fn ino_path(fs: &File, tree: u64, dirid: u64) -> Kr<String> {
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
