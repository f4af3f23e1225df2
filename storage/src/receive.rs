//! `zfs receive`: a btrfs send stream applied by Lumen itself (the kernel
//! has no receive ioctl; btrfs-progs applies streams in userspace too).
//!
//! Each subvolume in the stream is built under a hidden name: a full one
//! as a new subvolume, an incremental one as a writable snapshot of the
//! local snapshot it was sent against (found by received or own UUID).
//! Every command's CRC is checked before it is applied, paths are
//! resolved beneath the subvolume and never through a symbolic link (a
//! stream cannot write outside what it builds), and only when `END`
//! arrives are the snapshots marked received, made read-only and renamed
//! into place. A stream that is truncated or corrupt leaves nothing.

use crate::attrs;
use crate::dataset::{fire, HIDDEN_PREFIX};
use crate::error::{io, kernel, Result, StorageError};
use crate::handle::{open_dir, Pool};
use crate::layout::{Entry, Kind, SNAPDIR};
use crate::name::{AnyName, DatasetName, SnapshotName};
use crate::quota;
use crate::stream::{attr, cmd, Command, Reader, StreamError};
use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// How to receive.
#[derive(Debug, Clone, Default)]
pub struct ReceiveOptions {
    /// `-F`: an incremental stream replaces changes made to the dataset
    /// since its last snapshot.
    pub force: bool,
}

/// One subvolume being received.
struct Section {
    name: SnapshotName,
    /// Where it is being built, and the directory holding that.
    path: PathBuf,
    parent_dir: File,
    leaf: String,
    root: File,
    uuid: [u8; 16],
    ctransid: u64,
    full: bool,
    /// The incremental source's referenced bytes.
    base_refer: u64,
    open: Option<(String, File)>,
}

/// `open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}
const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// Open `rel` beneath `root`, never leaving it, following no symbolic
/// link (an `O_PATH | O_NOFOLLOW` open of a link gives the link).
fn open_beneath(root: &File, rel: &str, flags: i32, mode: u32) -> std::io::Result<File> {
    let path = CString::new(if rel.is_empty() { "." } else { rel })
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: u64::from(mode),
        resolve: RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
    };
    // SAFETY: openat2 with a NUL-terminated path and an open_how of the
    // size passed; the returned fd is new and owned here.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

/// The directory holding `rel` (opened beneath `root`) and its last name.
fn parent_of(root: &File, rel: &str) -> std::io::Result<(File, CString)> {
    let (dir, name) = match rel.rsplit_once('/') {
        Some((d, n)) => (d, n),
        None => ("", rel),
    };
    if name.is_empty() {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let d = open_beneath(root, dir, libc::O_PATH | libc::O_DIRECTORY, 0)?;
    let n = CString::new(name).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok((d, n))
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Whether anything in the dataset at `root` (not its `.zfs`, not nested
/// datasets, not its root directory, which Lumen's own records touch)
/// changed after `since` (seconds, nanoseconds).
fn modified_since(root: &std::path::Path, since: (u64, u32)) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(top) = std::fs::metadata(root) else {
        return true;
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            return true;
        };
        for e in entries.flatten() {
            let p = e.path();
            if d == root && e.file_name() == ".zfs" {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                return true;
            };
            if m.dev() != top.dev() {
                continue; // a nested dataset: its own business
            }
            if (m.ctime() as u64, m.ctime_nsec() as u32) > since {
                return true;
            }
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    false
}

impl Pool {
    /// Receive the stream on `input` into dataset `target` (a new dataset
    /// for a full stream; the dataset holding the incremental source for
    /// an incremental one). Returns the snapshots received.
    pub fn receive(
        &self,
        target: &DatasetName,
        input: impl Read,
        opts: &ReceiveOptions,
    ) -> Result<Vec<SnapshotName>> {
        let _lock = self.lock()?;
        let mut made: Vec<AnyName> = Vec::new();
        let got = self.receive_locked(target, input, opts, &mut made);
        if got.is_err() {
            // Nothing of a rejected stream stays: what it finished goes too,
            // newest first.
            for n in made.iter().rev() {
                let _ = self.destroy_locked_best_effort(n);
            }
        }
        got
    }

    fn destroy_locked_best_effort(&self, n: &AnyName) -> Result<()> {
        let entries = self.entries()?;
        let mut doomed: Vec<&Entry> = entries
            .iter()
            .filter(|e| match n {
                AnyName::Snapshot(_) => &e.name == n,
                AnyName::Dataset(d) => e.name.dataset().is_within(d),
            })
            .collect();
        doomed.sort_by_key(|e| {
            std::cmp::Reverse((e.path.components().count(), e.kind == Kind::Snapshot))
        });
        for e in doomed {
            if let (Some(d), Some(l)) = (e.path.parent(), e.path.file_name()) {
                let d = open_dir(d)?;
                let _ = std::fs::remove_dir(e.path.join(SNAPDIR));
                let _ = std::fs::remove_dir(e.path.join(".zfs"));
                let group = File::open(&e.path).ok().and_then(|f| quota::group_of(&f));
                let _ = self.kernel.subvol_destroy(&d, &l.to_string_lossy());
                if let (Some(g), false) = (group, e.kind == Kind::Snapshot) {
                    quota::remove_group(self, g);
                }
            }
        }
        Ok(())
    }

    fn receive_locked(
        &self,
        target: &DatasetName,
        input: impl Read,
        opts: &ReceiveOptions,
        made: &mut Vec<AnyName>,
    ) -> Result<Vec<SnapshotName>> {
        let mut reader = Reader::new(input)?;
        let mut section: Option<Section> = None;
        let mut received = Vec::new();
        let result = (|| -> Result<()> {
            loop {
                let Some(c) = reader.next_command()? else {
                    return Err(StreamError::Truncated {
                        offset: reader.bytes,
                        what: "the stream ended without its END command",
                    }
                    .into());
                };
                match c.cmd {
                    cmd::SUBVOL | cmd::SNAPSHOT => {
                        if let Some(s) = section.take() {
                            received.push(self.finish_section(s, made)?);
                        }
                        section = Some(self.begin_section(target, &c, opts)?);
                    }
                    cmd::END => {
                        if let Some(s) = section.take() {
                            received.push(self.finish_section(s, made)?);
                        }
                        return Ok(());
                    }
                    _ => {
                        let Some(s) = section.as_mut() else {
                            return Err(StreamError::Malformed {
                                offset: c.offset,
                                cmd: c.cmd,
                                why: "a command before any SUBVOL or SNAPSHOT".into(),
                            }
                            .into());
                        };
                        self.apply(s, &c).map_err(|e| StorageError::Receive {
                            name: s.name.to_string(),
                            why: format!("command {} at byte {}: {e}", c.cmd, c.offset),
                        })?;
                    }
                }
            }
        })();
        if let Err(e) = result {
            if let Some(s) = section.take() {
                drop(s.root);
                let _ = self.destroy_hidden(&s.parent_dir, &s.path);
            }
            return Err(e);
        }
        for r in &received {
            let bytes = reader.bytes;
            fire(&r.to_string(), |n| {
                probes::zfs::receive__done(|| (n, bytes))
            });
        }
        Ok(received)
    }

    /// Where a stream's subvolume goes: `@s` and plain names are
    /// `target@s`, `child@s` is `target/child@s`.
    fn place(target: &DatasetName, stream_name: &str) -> Result<SnapshotName> {
        let (rel, snap) = stream_name.rsplit_once('@').unwrap_or(("", stream_name));
        let d = if rel.is_empty() {
            target.clone()
        } else {
            DatasetName::parse(&format!("{target}/{rel}"))?
        };
        Ok(SnapshotName::of(&d, snap)?)
    }

    fn begin_section(
        &self,
        target: &DatasetName,
        c: &Command,
        opts: &ReceiveOptions,
    ) -> Result<Section> {
        let name = Self::place(target, &c.path(attr::PATH)?)?;
        let uuid = c.uuid(attr::UUID)?;
        let ctransid = c.u64(attr::CTRANSID)?;
        let d = &name.dataset;
        let ds_path = self.dataset_path(d);
        if c.cmd == cmd::SUBVOL {
            if ds_path.exists() {
                return Err(StorageError::Receive {
                    name: name.to_string(),
                    why: format!("destination '{d}' exists (a full stream makes a new dataset)"),
                });
            }
            let Some(parent) = d.parent() else {
                return Err(StorageError::Receive {
                    name: name.to_string(),
                    why: "a full stream cannot replace a pool's root dataset".into(),
                });
            };
            let parent_path = self.dataset_path(&parent);
            if !parent_path.is_dir() {
                return Err(StorageError::Receive {
                    name: name.to_string(),
                    why: format!("parent '{parent}' does not exist"),
                });
            }
            let parent_dir = open_dir(&parent_path)?;
            let leaf = format!("{HIDDEN_PREFIX}{}@recv", d.last());
            let path = parent_path.join(&leaf);
            self.destroy_hidden(&parent_dir, &path)?;
            self.kernel
                .subvol_create(&parent_dir, &leaf)
                .map_err(kernel("receive", &name))?;
            let root = open_dir(&path)?;
            return Ok(Section {
                name,
                path,
                parent_dir,
                leaf,
                root,
                uuid,
                ctransid,
                full: true,
                base_refer: 0,
                open: None,
            });
        }
        // Incremental: the source is a snapshot of the dataset, by the UUID
        // it was received as or its own, and the latest one.
        let clone_uuid = c.uuid(attr::CLONE_UUID)?;
        let entries = self.entries()?;
        let mine: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.kind == Kind::Snapshot && e.name.dataset() == d)
            .collect();
        let Some(source) = mine
            .iter()
            .find(|e| e.record.received_uuid == clone_uuid || e.record.uuid == clone_uuid)
        else {
            return Err(StorageError::Receive {
                name: name.to_string(),
                why: format!(
                    "destination '{d}' does not have the stream's incremental source snapshot"
                ),
            });
        };
        if mine.last().map(|e| &e.name) != Some(&source.name) {
            return Err(StorageError::Receive {
                name: name.to_string(),
                why: format!("{} is not the most recent snapshot of '{d}'", source.name),
            });
        }
        if !opts.force {
            let head = entries
                .iter()
                .find(|e| e.name == AnyName::Dataset(d.clone()))
                .ok_or_else(|| StorageError::NoSuchDataset(d.to_string()))?;
            let since = (head.record.otime, head.record.otime_nsec)
                .max((source.record.otime, source.record.otime_nsec));
            if modified_since(&ds_path, since) {
                return Err(StorageError::Receive {
                    name: name.to_string(),
                    why: format!("destination '{d}' has been modified since its most recent snapshot (use -F to discard the changes)"),
                });
            }
        }
        if self.snapshot_path(&name).exists() {
            return Err(StorageError::Exists(name.to_string()));
        }
        let snapdir = ds_path.join(SNAPDIR);
        let parent_dir = open_dir(&snapdir)?;
        let leaf = format!("{HIDDEN_PREFIX}{}", name.snap);
        let path = snapdir.join(&leaf);
        self.destroy_hidden(&parent_dir, &path)?;
        let src = open_dir(&source.path)?;
        self.kernel
            .snapshot(&src, &parent_dir, &leaf, false)
            .map_err(kernel("receive", &name))?;
        let base_refer = attrs::get(&src, attrs::REFER)
            .ok()
            .flatten()
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        let root = open_dir(&path)?;
        Ok(Section {
            name,
            path,
            parent_dir,
            leaf,
            root,
            uuid,
            ctransid,
            full: false,
            base_refer,
            open: None,
        })
    }

    /// Mark a section received, read-only, and put it in place; on
    /// failure nothing of it stays.
    fn finish_section(&self, s: Section, made: &mut Vec<AnyName>) -> Result<SnapshotName> {
        let (parent_dir, path) = match s.parent_dir.try_clone() {
            Ok(d) => (d, s.path.clone()),
            Err(e) => return Err(io(&s.path)(e)),
        };
        let done = self.finish_section_inner(s, made);
        if done.is_err() {
            let _ = self.destroy_hidden(&parent_dir, &path);
        }
        done
    }

    fn finish_section_inner(
        &self,
        mut s: Section,
        made: &mut Vec<AnyName>,
    ) -> Result<SnapshotName> {
        s.open = None;
        self.kernel
            .set_received(&s.root, s.uuid, s.ctransid)
            .map_err(kernel("receive", &s.name))?;
        self.sync()?;
        let id = self
            .kernel
            .subvol_id(&s.root)
            .map_err(kernel("receive", &s.name))?;
        let refer = s.base_refer + quota::space(self, id, None)?.own;
        attrs::set(&s.root, attrs::REFER, Some(&refer.to_string())).map_err(io(&s.path))?;
        let _ = attrs::set(&s.root, attrs::ORIGIN, None);
        let d = s.name.dataset.clone();
        if s.full {
            // The dataset: a writable snapshot of what arrived, which moves
            // into it as its snapshot; shown by one rename.
            let Some(parent) = d.parent() else {
                return Err(StorageError::NoSuchDataset(d.to_string()));
            };
            let parent_path = self.dataset_path(&parent);
            let head_leaf = format!("{HIDDEN_PREFIX}{}", d.last());
            let head_path = parent_path.join(&head_leaf);
            self.destroy_hidden(&s.parent_dir, &head_path)?;
            self.kernel
                .snapshot(&s.root, &s.parent_dir, &head_leaf, false)
                .map_err(kernel("receive", &d))?;
            let snap_name = s.name.snap.clone();
            let from = s.path.clone();
            let root = s.root.try_clone().map_err(io(&s.path))?;
            let built = self.finish_new(&s.parent_dir, &head_leaf, &d, None, |dir| {
                attrs::set(dir, attrs::REFER, Some(&refer.to_string())).map_err(io(&head_path))?;
                let _ = std::fs::remove_dir(head_path.join(SNAPDIR));
                let to = head_path.join(SNAPDIR).join(&snap_name);
                self.move_subvol(&from, &to)?;
                // What arrived was written by the received subvolume: it
                // counts in the new dataset's group.
                if let Some(g) = quota::group_of(dir) {
                    quota::join(self, id, &[g])?;
                }
                self.kernel
                    .set_read_only(&root, true)
                    .map_err(kernel("receive", &s.name))
            });
            if let Err(e) = built {
                let _ = self.destroy_hidden(&s.parent_dir, &head_path);
                return Err(e);
            }
            fire(&d.to_string(), |n| probes::zfs::dataset__create(|| (n, 0)));
            made.push(AnyName::Dataset(d));
        } else {
            self.kernel
                .set_read_only(&s.root, true)
                .map_err(kernel("receive", &s.name))?;
            crate::dataset::rename_noreplace(&s.parent_dir, &s.leaf, &s.parent_dir, &s.name.snap)
                .map_err(io(self.snapshot_path(&s.name)))?;
            made.push(AnyName::Snapshot(s.name.clone()));
            // The dataset moves on to what it received.
            self.replace_head(&s.name)?;
        }
        Ok(s.name)
    }

    /// Apply one command to the subvolume being built.
    fn apply(&self, s: &mut Section, c: &Command) -> std::result::Result<(), String> {
        let e = |e: std::io::Error| e.to_string();
        let se = |e: StreamError| e.to_string();
        let path = || c.path(attr::PATH).map_err(se);
        match c.cmd {
            cmd::MKFILE => {
                let (d, n) = parent_of(&s.root, &path()?).map_err(e)?;
                // SAFETY: openat on a directory fd and a NUL-terminated name.
                let fd = unsafe {
                    libc::openat(
                        d.as_raw_fd(),
                        n.as_ptr(),
                        libc::O_CREAT
                            | libc::O_EXCL
                            | libc::O_WRONLY
                            | libc::O_CLOEXEC
                            | libc::O_NOFOLLOW,
                        0o600,
                    )
                };
                if fd < 0 {
                    return Err(e(std::io::Error::last_os_error()));
                }
                // SAFETY: a new fd, owned here.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            cmd::MKDIR => {
                let (d, n) = parent_of(&s.root, &path()?).map_err(e)?;
                // SAFETY: as above.
                check(unsafe { libc::mkdirat(d.as_raw_fd(), n.as_ptr(), 0o700) }).map_err(e)?;
            }
            cmd::MKNOD | cmd::MKFIFO | cmd::MKSOCK => {
                let (d, n) = parent_of(&s.root, &path()?).map_err(e)?;
                let mode = c.u64(attr::MODE).map_err(se)? as libc::mode_t;
                let rdev = if c.cmd == cmd::MKNOD {
                    c.u64(attr::RDEV).map_err(se)?
                } else {
                    0
                };
                let kind = match c.cmd {
                    cmd::MKFIFO => libc::S_IFIFO,
                    cmd::MKSOCK => libc::S_IFSOCK,
                    _ => mode & libc::S_IFMT,
                };
                // SAFETY: as above.
                check(unsafe {
                    libc::mknodat(d.as_raw_fd(), n.as_ptr(), kind | (mode & 0o7777), rdev)
                })
                .map_err(e)?;
            }
            cmd::SYMLINK => {
                let (d, n) = parent_of(&s.root, &path()?).map_err(e)?;
                let target = CString::new(c.get(attr::PATH_LINK).map_err(se)?)
                    .map_err(|_| "NUL in a link".to_string())?;
                // SAFETY: as above.
                check(unsafe { libc::symlinkat(target.as_ptr(), d.as_raw_fd(), n.as_ptr()) })
                    .map_err(e)?;
            }
            cmd::RENAME => {
                s.open = None;
                let (fd, fname) = parent_of(&s.root, &path()?).map_err(e)?;
                let (td, tname) =
                    parent_of(&s.root, &c.path(attr::PATH_TO).map_err(se)?).map_err(e)?;
                // SAFETY: as above.
                check(unsafe {
                    libc::renameat(
                        fd.as_raw_fd(),
                        fname.as_ptr(),
                        td.as_raw_fd(),
                        tname.as_ptr(),
                    )
                })
                .map_err(e)?;
            }
            cmd::LINK => {
                let (nd, nname) = parent_of(&s.root, &path()?).map_err(e)?;
                let (od, oname) =
                    parent_of(&s.root, &c.path(attr::PATH_LINK).map_err(se)?).map_err(e)?;
                // SAFETY: as above.
                check(unsafe {
                    libc::linkat(
                        od.as_raw_fd(),
                        oname.as_ptr(),
                        nd.as_raw_fd(),
                        nname.as_ptr(),
                        0,
                    )
                })
                .map_err(e)?;
            }
            cmd::UNLINK | cmd::RMDIR => {
                s.open = None;
                let (d, n) = parent_of(&s.root, &path()?).map_err(e)?;
                let flag = if c.cmd == cmd::RMDIR {
                    libc::AT_REMOVEDIR
                } else {
                    0
                };
                // SAFETY: as above.
                check(unsafe { libc::unlinkat(d.as_raw_fd(), n.as_ptr(), flag) }).map_err(e)?;
            }
            cmd::WRITE => {
                let off = c.u64(attr::FILE_OFFSET).map_err(se)?;
                let data = c.get(attr::DATA).map_err(se)?;
                let f = Self::file(s, &path()?).map_err(e)?;
                f.write_all_at(data, off).map_err(e)?;
            }
            cmd::CLONE => {
                let off = c.u64(attr::FILE_OFFSET).map_err(se)?;
                let len = c.u64(attr::CLONE_LEN).map_err(se)?;
                let src_off = c.u64(attr::CLONE_OFFSET).map_err(se)?;
                let src_uuid = c.uuid(attr::CLONE_UUID).map_err(se)?;
                let src_path = c.path(attr::CLONE_PATH).map_err(se)?;
                let src_root = if src_uuid == s.uuid {
                    s.root.try_clone().map_err(e)?
                } else {
                    let entries = self.entries().map_err(|x| x.to_string())?;
                    let src = entries
                        .iter()
                        .find(|x| x.record.received_uuid == src_uuid || x.record.uuid == src_uuid)
                        .ok_or("the clone source subvolume is not in this pool")?;
                    open_dir(&src.path).map_err(|x| x.to_string())?
                };
                let src = open_beneath(&src_root, &src_path, libc::O_RDONLY, 0).map_err(e)?;
                let dst = Self::file(s, &path()?).map_err(e)?;
                if self
                    .kernel
                    .clone_range(&src, src_off, len, dst, off)
                    .is_err()
                {
                    // Unaligned tails and the like: copy the bytes instead.
                    let mut buf = vec![0u8; len.min(1 << 20) as usize];
                    let mut done = 0u64;
                    while done < len {
                        let want = (len - done).min(buf.len() as u64) as usize;
                        let n = src.read_at(&mut buf[..want], src_off + done).map_err(e)?;
                        if n == 0 {
                            break;
                        }
                        dst.write_all_at(&buf[..n], off + done).map_err(e)?;
                        done += n as u64;
                    }
                }
            }
            cmd::TRUNCATE => {
                let size = c.u64(attr::SIZE).map_err(se)?;
                Self::file(s, &path()?)
                    .map_err(e)?
                    .set_len(size)
                    .map_err(e)?;
            }
            cmd::CHMOD => {
                let mode = c.u64(attr::MODE).map_err(se)? as libc::mode_t;
                let p = path()?;
                let f = open_beneath(&s.root, &p, libc::O_PATH | libc::O_NOFOLLOW, 0).map_err(e)?;
                let md = f.metadata().map_err(e)?;
                if !md.file_type().is_symlink() {
                    let proc_path = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
                        .map_err(|_| "fd path".to_string())?;
                    // SAFETY: a NUL-terminated path naming our own fd.
                    check(unsafe { libc::chmod(proc_path.as_ptr(), mode & 0o7777) }).map_err(e)?;
                }
            }
            cmd::CHOWN => {
                let uid = c.u64(attr::UID).map_err(se)? as libc::uid_t;
                let gid = c.u64(attr::GID).map_err(se)? as libc::gid_t;
                let f = open_beneath(&s.root, &path()?, libc::O_PATH | libc::O_NOFOLLOW, 0)
                    .map_err(e)?;
                // SAFETY: fchownat on our own O_PATH fd with AT_EMPTY_PATH.
                check(unsafe {
                    libc::fchownat(
                        f.as_raw_fd(),
                        c"".as_ptr(),
                        uid,
                        gid,
                        libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
                    )
                })
                .map_err(e)?;
            }
            cmd::UTIMES => {
                let ts = |a| -> std::result::Result<libc::timespec, String> {
                    let (sec, nsec) = c.time(a).map_err(se)?;
                    Ok(libc::timespec {
                        tv_sec: sec as libc::time_t,
                        tv_nsec: nsec as libc::c_long,
                    })
                };
                let times = [ts(attr::ATIME)?, ts(attr::MTIME)?];
                let p = path()?;
                if p.is_empty() {
                    // SAFETY: futimens on our fd with two timespecs.
                    check(unsafe { libc::futimens(s.root.as_raw_fd(), times.as_ptr()) })
                        .map_err(e)?;
                } else {
                    let (d, n) = parent_of(&s.root, &p).map_err(e)?;
                    // SAFETY: as above, not following a final symbolic link.
                    check(unsafe {
                        libc::utimensat(
                            d.as_raw_fd(),
                            n.as_ptr(),
                            times.as_ptr(),
                            libc::AT_SYMLINK_NOFOLLOW,
                        )
                    })
                    .map_err(e)?;
                }
            }
            cmd::SET_XATTR | cmd::REMOVE_XATTR => {
                let xname =
                    String::from_utf8_lossy(c.get(attr::XATTR_NAME).map_err(se)?).into_owned();
                let p = path()?;
                let f = match open_beneath(&s.root, &p, libc::O_RDONLY | libc::O_NOFOLLOW, 0) {
                    Ok(f) => f,
                    // A symbolic link holds no attributes Lumen applies.
                    Err(x) if x.raw_os_error() == Some(libc::ELOOP) => return Ok(()),
                    Err(x) => return Err(e(x)),
                };
                let value = if c.cmd == cmd::SET_XATTR {
                    Some(c.get(attr::XATTR_DATA).map_err(se)?)
                } else {
                    None
                };
                attrs::set_raw(&f, &xname, value).map_err(e)?;
            }
            // Only streams sent without file data carry it: nothing to write.
            cmd::UPDATE_EXTENT => {}
            other => return Err(format!("command {other} is not one Lumen applies")),
        }
        Ok(())
    }

    /// The file at `rel` open for writing (kept open across writes).
    fn file<'s>(s: &'s mut Section, rel: &str) -> std::io::Result<&'s File> {
        let reopen = !matches!(&s.open, Some((p, _)) if p == rel);
        if reopen {
            let f = open_beneath(&s.root, rel, libc::O_RDWR | libc::O_NOFOLLOW, 0)?;
            s.open = Some((rel.to_string(), f));
        }
        match &s.open {
            Some((_, f)) => Ok(f),
            None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
        }
    }
}
