//! Datasets: making, destroying and renaming the btrfs subvolumes that
//! [`crate::layout`] places where ZFS names them.
//!
//! Nothing is ever visible half made: a dataset, clone or snapshot is
//! built under a hidden name (`.lumen-new-NAME`, which no valid name can
//! be) and renamed into place when whole. [`Pool::sweep`] removes what a
//! killed command left under such names.

use crate::attrs;
use crate::btrfs::{QgroupId, SubvolRecord};
use crate::error::{io, kernel, Result, StorageError};
use crate::handle::{open_dir, Pool};
use crate::name::{AnyName, DatasetName};
use crate::quota;
use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

// The listing's types and the snapshot directory are `layout`'s, so that
// what only reads a pool needs nothing of this module; `dataset::Entry`
// and `dataset::Kind` stay the paths the crate's users know.
pub use crate::layout::{Entry, Kind, SNAPDIR};

/// Names of work in progress begin so.
pub const HIDDEN_PREFIX: &str = ".lumen-new-";

/// How to make a dataset.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Make missing parents (`-p`).
    pub parents: bool,
    /// A volume of this many bytes (`-V`).
    pub volsize: Option<u64>,
    /// Properties to set (`-o name=value`).
    pub properties: Vec<(String, String)>,
}

/// `renameat2` within one directory tree, failing if `to` exists.
pub(crate) fn rename_noreplace(
    from_dir: &File,
    from: &str,
    to_dir: &File,
    to: &str,
) -> std::io::Result<()> {
    let (Ok(a), Ok(b)) = (CString::new(from), CString::new(to)) else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: NUL-terminated names and directory fds that outlive the call.
    let r = unsafe {
        libc::renameat2(
            from_dir.as_raw_fd(),
            a.as_ptr(),
            to_dir.as_raw_fd(),
            b.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Swap two names in one directory at once.
pub(crate) fn rename_exchange(dir: &File, a: &str, b: &str) -> std::io::Result<()> {
    let (Ok(a), Ok(b)) = (CString::new(a), CString::new(b)) else {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: as above.
    let r = unsafe {
        libc::renameat2(
            dir.as_raw_fd(),
            a.as_ptr(),
            dir.as_raw_fd(),
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Fire a `zfs` probe with a name.
pub(crate) fn fire(name: &str, probe: impl FnOnce(*const std::ffi::c_char)) {
    if let Ok(c) = CString::new(name) {
        probe(c.as_ptr());
    }
}

impl Pool {
    /// The level-1 groups of `d`'s ancestors (nearest first).
    pub(crate) fn ancestor_groups(&self, d: &DatasetName) -> Result<Vec<QgroupId>> {
        let mut out = Vec::new();
        for a in d.ancestors() {
            let dir = open_dir(&self.dataset_path(&a))?;
            if let Some(g) = quota::group_of(&dir) {
                out.push(g);
            }
        }
        Ok(out)
    }

    /// `zfs create`: a file system or (`-V`) a volume.
    pub fn create(&self, name: &DatasetName, opts: &CreateOptions) -> Result<()> {
        let _lock = self.lock()?;
        self.create_locked(name, opts, &mut |_| Ok(()))
    }

    /// [`Pool::create`], running `setup` on the new dataset's directory
    /// before it is shown (a zone writes its manifest there; an image its
    /// files), so it appears whole or not at all.
    pub fn create_with(
        &self,
        name: &DatasetName,
        opts: &CreateOptions,
        mut setup: impl FnMut(&Path) -> Result<()>,
    ) -> Result<()> {
        let _lock = self.lock()?;
        self.create_locked(name, opts, &mut setup)
    }

    fn create_locked(
        &self,
        name: &DatasetName,
        opts: &CreateOptions,
        setup: &mut dyn FnMut(&Path) -> Result<()>,
    ) -> Result<()> {
        if name.pool() != self.name() {
            return Err(StorageError::NoSuchPool(name.pool().to_string()));
        }
        let Some(parent) = name.parent() else {
            return Err(StorageError::Exists(name.to_string()));
        };
        if self.dataset_path(name).exists() {
            return Err(StorageError::Exists(name.to_string()));
        }
        if !self.dataset_path(&parent).is_dir() {
            if !opts.parents {
                return Err(StorageError::Refused {
                    action: "create",
                    name: name.to_string(),
                    why: format!("parent '{parent}' does not exist (use -p to make it)"),
                });
            }
            self.create_locked(&parent, &CreateOptions::default(), &mut |_| Ok(()))?;
        }
        // Check every property before anything is made.
        for (k, v) in &opts.properties {
            crate::props::check(name, k, v)?;
        }
        let parent_dir = open_dir(&self.dataset_path(&parent))?;
        let temp = format!("{HIDDEN_PREFIX}{}", name.last());
        self.destroy_hidden(&parent_dir, &self.dataset_path(&parent).join(&temp))?;
        self.kernel
            .subvol_create(&parent_dir, &temp)
            .map_err(kernel("create", name))?;
        let built = self.finish_new(&parent_dir, &temp, name, None, |dir| {
            if let Some(size) = opts.volsize {
                crate::volume::make(self, dir, name, size)?;
            }
            for (k, v) in &opts.properties {
                crate::props::set_on(self, name, dir, k, v)?;
            }
            setup(&self.dataset_path(&parent).join(&temp))
        });
        match built {
            Ok(()) => {
                fire(&name.to_string(), |n| {
                    probes::zfs::dataset__create(|| (n, opts.volsize.unwrap_or(0)))
                });
                Ok(())
            }
            Err(e) => {
                let _ = self.destroy_hidden(&parent_dir, &self.dataset_path(&parent).join(&temp));
                Err(e)
            }
        }
    }

    /// Finish a new dataset built at `parent_dir/temp` as `name`: its own
    /// qgroup (a new one, or `group` when it replaces a dataset), the
    /// parent's compression, `setup`, then the rename that shows it.
    pub(crate) fn finish_new(
        &self,
        parent_dir: &File,
        temp: &str,
        name: &DatasetName,
        group: Option<QgroupId>,
        setup: impl FnOnce(&File) -> Result<()>,
    ) -> Result<()> {
        let temp_path = self
            .dataset_path(&name.parent().unwrap_or_else(|| name.clone()))
            .join(temp);
        let dir = open_dir(&temp_path)?;
        let id = self
            .kernel
            .subvol_id(&dir)
            .map_err(kernel("create", name))?;
        let ancestors = self.ancestor_groups(name)?;
        match group {
            Some(g) => {
                quota::join(self, id, &[g])?;
                quota::join(self, id, &ancestors)?;
            }
            None => {
                quota::create_group(self, &dir, id, &ancestors)?;
                // A clone or received stream brings its origin's record.
                let _ = attrs::set(&dir, attrs::ORIGIN, None);
            }
        }
        if let Some(parent) = name.parent() {
            let pdir = open_dir(&self.dataset_path(&parent))?;
            if let Ok(Some(c)) = attrs::get(&pdir, attrs::COMPRESSION) {
                if attrs::get(&dir, attrs::COMPRESSION)
                    .ok()
                    .flatten()
                    .is_none()
                {
                    attrs::set(&dir, attrs::COMPRESSION, Some(&c)).map_err(io(&temp_path))?;
                }
            }
        }
        setup(&dir)?;
        rename_noreplace(parent_dir, temp, parent_dir, name.last()).map_err(|e| {
            if e.raw_os_error() == Some(libc::EEXIST) {
                StorageError::Exists(name.to_string())
            } else {
                io(self.dataset_path(name))(e)
            }
        })
    }

    /// `zfs destroy [-r]`: a snapshot, or a dataset (with `recursive`, its
    /// snapshots and descendants too). Refused while a snapshot has clones.
    /// Returns what was destroyed.
    pub fn destroy(&self, name: &AnyName, recursive: bool) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let entries = self.entries()?;
        let Some(target) = entries.iter().find(|e| &e.name == name) else {
            return Err(StorageError::NoSuchDataset(name.to_string()));
        };
        let doomed: Vec<&Entry> = match name {
            AnyName::Snapshot(_) => vec![target],
            AnyName::Dataset(d) => {
                if d.parent().is_none() {
                    return Err(StorageError::Refused {
                        action: "destroy",
                        name: name.to_string(),
                        why: "a pool's root dataset goes with the pool (zpool destroy)".into(),
                    });
                }
                let below: Vec<&Entry> = entries
                    .iter()
                    .filter(|e| e.name.dataset().is_within(d) && &e.name != name)
                    .collect();
                if !below.is_empty() && !recursive {
                    let list: Vec<String> = below.iter().map(|e| e.name.to_string()).collect();
                    return Err(StorageError::Refused {
                        action: "destroy",
                        name: name.to_string(),
                        why: format!(
                            "filesystem has children; use '-r' to destroy the following datasets: {}",
                            list.join(" ")
                        ),
                    });
                }
                // Deepest first, snapshots before their dataset.
                let mut all = below;
                all.push(target);
                all.sort_by_key(|e| {
                    std::cmp::Reverse((e.path.components().count(), e.kind == Kind::Snapshot))
                });
                all
            }
        };
        // Clones of a doomed snapshot, outside what is destroyed, stop it.
        for e in &doomed {
            if e.kind != Kind::Snapshot {
                continue;
            }
            let clones = self.clones_of(&entries, e);
            let outside: Vec<String> = clones
                .iter()
                .filter(|c| !doomed.iter().any(|d| d.name == c.name))
                .map(|c| c.name.to_string())
                .collect();
            if !outside.is_empty() {
                return Err(StorageError::Refused {
                    action: "destroy",
                    name: e.name.to_string(),
                    why: format!(
                        "snapshot has dependent clones ({}); destroy them or 'zfs promote' them first",
                        outside.join(", ")
                    ),
                });
            }
        }
        let mut done = Vec::new();
        for e in doomed {
            self.destroy_entry(e)?;
            done.push(e.name.to_string());
        }
        Ok(done)
    }

    /// Destroy one subvolume (its nested ones are gone already), with its
    /// qgroups.
    fn destroy_entry(&self, e: &Entry) -> Result<()> {
        let (Some(dir), Some(leaf)) = (e.path.parent(), e.path.file_name()) else {
            return Err(StorageError::NoSuchDataset(e.name.to_string()));
        };
        let leaf = leaf.to_string_lossy().into_owned();
        let group = File::open(&e.path).ok().and_then(|f| quota::group_of(&f));
        let size = quota::space(self, e.record.id, None).map_or(0, |s| s.own);
        let parent_dir = open_dir(dir)?;
        if e.kind != Kind::Snapshot {
            // A dataset's `.zfs/snapshot` directories go first: a subvolume
            // holding directories is still removed, but not its parents'.
            let _ = std::fs::remove_dir(e.path.join(SNAPDIR));
            let _ = std::fs::remove_dir(e.path.join(".zfs"));
        }
        self.kernel
            .subvol_destroy(&parent_dir, &leaf)
            .map_err(|source| {
                let busy = source.errno == libc::EBUSY;
                if busy {
                    StorageError::Refused {
                        action: "destroy",
                        name: e.name.to_string(),
                        why: "dataset is busy (mounted, or in use by a running zone)".into(),
                    }
                } else {
                    StorageError::Kernel {
                        action: "destroy",
                        name: e.name.to_string(),
                        source,
                    }
                }
            })?;
        if e.kind != Kind::Snapshot {
            if let AnyName::Dataset(d) = &e.name {
                let ancestors = self.ancestor_groups(d).unwrap_or_default();
                quota::leave(self, e.record.id, &ancestors);
            }
            if let Some(g) = group {
                quota::remove_group(self, g);
            }
        }
        let name = e.name.to_string();
        fire(&name, |n| probes::zfs::dataset__destroy(|| (n, size)));
        Ok(())
    }

    /// Remove hidden subvolume `path` (below directory `parent_dir`) and
    /// every subvolume in it, with the qgroup it made; nothing if absent.
    pub(crate) fn destroy_hidden(&self, parent_dir: &File, path: &Path) -> Result<()> {
        if std::fs::symlink_metadata(path).is_err() {
            return Ok(());
        }
        let rel = path
            .strip_prefix(self.mountpoint())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let subvols = self.subvolumes()?;
        if !subvols.iter().any(|r| r.path == rel) {
            // A plain directory of that name: not ours to judge; remove it
            // only if empty.
            let _ = std::fs::remove_dir(path);
            return Ok(());
        }
        let mut nested: Vec<&SubvolRecord> = subvols
            .iter()
            .filter(|r| r.path.starts_with(&format!("{rel}/")))
            .collect();
        nested.sort_by_key(|r| std::cmp::Reverse(r.path.len()));
        for r in nested {
            let p = self.mountpoint().join(&r.path);
            if let (Some(d), Some(leaf)) = (p.parent(), p.file_name()) {
                let d = open_dir(d)?;
                self.kernel
                    .subvol_destroy(&d, &leaf.to_string_lossy())
                    .map_err(kernel("clean up", &r.path))?;
            }
        }
        let group = File::open(path).ok().and_then(|f| quota::group_of(&f));
        let leaf = path
            .file_name()
            .map(|l| l.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.kernel
            .subvol_destroy(parent_dir, &leaf)
            .map_err(kernel("clean up", &rel))?;
        // The group goes unless a dataset still counts in it (the old head
        // a rollback replaced shares its dataset's group).
        if let Some(g) = group {
            let visible = path
                .parent()
                .map(|d| d.join(leaf.trim_start_matches(HIDDEN_PREFIX)))
                .and_then(|p| File::open(p).ok())
                .and_then(|f| quota::group_of(&f));
            if visible != Some(g) {
                quota::remove_group(self, g);
            }
        }
        Ok(())
    }

    /// Remove what killed commands left: every hidden subvolume (a create,
    /// clone, receive or snapshot that never finished; a rollback's old
    /// head). A rollback killed before its swap left snapshots and child
    /// datasets in its new head: they go back to the dataset first.
    pub fn sweep(&self) -> Result<()> {
        let _lock = self.lock()?;
        let subvols = self.subvolumes()?;
        let hidden: Vec<&SubvolRecord> = subvols
            .iter()
            .filter(|r| {
                r.path
                    .rsplit('/')
                    .next()
                    .is_some_and(|l| l.starts_with(HIDDEN_PREFIX))
            })
            .collect();
        for r in hidden {
            let path = self.mountpoint().join(&r.path);
            if !path.exists() {
                continue; // inside one already removed
            }
            let (Some(dir), Some(leaf)) = (path.parent(), path.file_name()) else {
                continue;
            };
            let leaf = leaf.to_string_lossy().into_owned();
            let sibling = dir.join(leaf.trim_start_matches(HIDDEN_PREFIX));
            if sibling.is_dir() {
                self.restore_nested(&path, &sibling, &subvols, &r.path)?;
            }
            let parent_dir = open_dir(dir)?;
            self.destroy_hidden(&parent_dir, &path)?;
        }
        Ok(())
    }

    /// Move the snapshots and child datasets directly in `from` (a
    /// subvolume at `rel`) into `to`, where `to` lacks them.
    pub(crate) fn restore_nested(
        &self,
        from: &Path,
        to: &Path,
        subvols: &[SubvolRecord],
        rel: &str,
    ) -> Result<()> {
        let Some(me) = subvols.iter().find(|r| r.path == rel) else {
            return Ok(());
        };
        for r in subvols.iter().filter(|r| r.parent == me.id) {
            let Some(inner) = r.path.strip_prefix(&format!("{rel}/")) else {
                continue;
            };
            let leaf_name = inner.rsplit('/').next().unwrap_or(inner);
            if leaf_name.starts_with(HIDDEN_PREFIX) {
                continue;
            }
            self.move_subvol(&from.join(inner), &to.join(inner))?;
        }
        Ok(())
    }

    /// Move subvolume `from` to `to` (another subvolume may hold it: btrfs
    /// renames a subvolume's root across subvolumes), replacing the empty
    /// placeholder a snapshot keeps where a nested subvolume was.
    pub(crate) fn move_subvol(&self, from: &Path, to: &Path) -> Result<()> {
        if let Some(d) = to.parent() {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        if to.is_dir() {
            // An empty directory only: never anything with data in it.
            std::fs::remove_dir(to).map_err(io(to))?;
        }
        // btrfs refuses to move a read-only subvolume to another directory
        // (its `..` would change): writable for the move, then read-only.
        let sub = open_dir(from)?;
        let read_only = self
            .kernel
            .read_only(&sub)
            .map_err(kernel("move", from.display()))?;
        if read_only {
            self.kernel
                .set_read_only(&sub, false)
                .map_err(kernel("move", from.display()))?;
        }
        let moved = std::fs::rename(from, to).map_err(io(to));
        if read_only {
            self.kernel
                .set_read_only(&sub, true)
                .map_err(kernel("move", to.display()))?;
        }
        moved
    }

    /// `zfs rename`: a dataset (with its snapshots and children, which
    /// live inside it) or a snapshot, within its pool.
    pub fn rename(&self, from: &AnyName, to: &AnyName) -> Result<()> {
        let _lock = self.lock()?;
        if !self.exists(from) {
            return Err(StorageError::NoSuchDataset(from.to_string()));
        }
        if to.dataset().pool() != self.name() {
            return Err(StorageError::Refused {
                action: "rename",
                name: from.to_string(),
                why: "datasets cannot move between pools (use send and receive)".into(),
            });
        }
        let (src, dst) = match (from, to) {
            (AnyName::Snapshot(a), AnyName::Snapshot(b)) => {
                if a.dataset != b.dataset {
                    return Err(StorageError::Refused {
                        action: "rename",
                        name: from.to_string(),
                        why: "a snapshot can only be renamed within its dataset".into(),
                    });
                }
                (self.snapshot_path(a), self.snapshot_path(b))
            }
            (AnyName::Dataset(a), AnyName::Dataset(b)) => {
                if a.parent().is_none() || b.parent().is_none() {
                    return Err(StorageError::Refused {
                        action: "rename",
                        name: from.to_string(),
                        why: "a pool's root dataset cannot be renamed".into(),
                    });
                }
                if b.is_within(a) {
                    return Err(StorageError::Refused {
                        action: "rename",
                        name: from.to_string(),
                        why: "a dataset cannot be moved below itself".into(),
                    });
                }
                let Some(bp) = b.parent() else {
                    return Err(StorageError::NoSuchDataset(to.to_string()));
                };
                if !self.exists(&AnyName::Dataset(bp.clone())) {
                    return Err(StorageError::Refused {
                        action: "rename",
                        name: from.to_string(),
                        why: format!("parent '{bp}' does not exist"),
                    });
                }
                (self.dataset_path(a), self.dataset_path(b))
            }
            _ => {
                return Err(StorageError::Refused {
                    action: "rename",
                    name: from.to_string(),
                    why: "a snapshot's new name must be a snapshot's, a dataset's a dataset's"
                        .into(),
                })
            }
        };
        let (Some(sd), Some(sl), Some(dd), Some(dl)) =
            (src.parent(), src.file_name(), dst.parent(), dst.file_name())
        else {
            return Err(StorageError::NoSuchDataset(from.to_string()));
        };
        let (sd, dd) = (open_dir(sd)?, open_dir(dd)?);
        rename_noreplace(&sd, &sl.to_string_lossy(), &dd, &dl.to_string_lossy()).map_err(|e| {
            if e.raw_os_error() == Some(libc::EEXIST) {
                StorageError::Exists(to.to_string())
            } else {
                io(&dst)(e)
            }
        })?;
        // A dataset moved under another parent counts in its new
        // ancestors' groups instead of its old ones'.
        if let (AnyName::Dataset(a), AnyName::Dataset(b)) = (from, to) {
            if a.parent() != b.parent() {
                let old = self.ancestor_groups(a).unwrap_or_default();
                let new = self.ancestor_groups(b)?;
                let moved: Vec<Entry> = self
                    .entries()?
                    .into_iter()
                    .filter(|e| e.kind != Kind::Snapshot && e.name.dataset().is_within(b))
                    .collect();
                for e in moved {
                    let gone: Vec<QgroupId> =
                        old.iter().filter(|g| !new.contains(g)).copied().collect();
                    let added: Vec<QgroupId> =
                        new.iter().filter(|g| !old.contains(g)).copied().collect();
                    quota::leave(self, e.record.id, &gone);
                    quota::join(self, e.record.id, &added)?;
                }
            }
        }
        Ok(())
    }
}
