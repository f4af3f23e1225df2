//! [`Real`]: the [`Btrfs`] calls made on the kernel, each one ioctl (or a
//! read of the qgroup counters in sysfs).
//!
//! Apart from the trait so that the interface reads on one page, and from
//! `abi` so that the structs' transcription and the calls' logic (what is
//! filled in, what comes back) can be checked separately.

use super::abi::*;
use super::tree::{
    ino_path, le32, le64, tree_search, uuid_at, FIRST_FREE_OBJECTID, LAST_FREE_OBJECTID,
    QGROUP_RELATION_KEY, QUOTA_TREE, ROOT_BACKREF_KEY, ROOT_ITEM_KEY, ROOT_TREE,
};
use super::{
    format_uuid, Btrfs, DevInfo, DevStats, FsInfo, KernelError, Kr, QgroupId, QgroupUsage,
    ScrubProgress, SpaceInfo, SubvolRecord,
};
use std::ffi::CStr;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

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
