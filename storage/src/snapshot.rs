//! Snapshots, and what is made of them: rollback, clones, promote.
//!
//! A snapshot is a read-only btrfs snapshot of its dataset's subvolume
//! in the dataset's `.zfs/snapshot/`; a clone is a writable one placed
//! as a dataset; a rollback makes a writable one of the snapshot, moves
//! the dataset's snapshots and children into it and swaps it with the
//! dataset in one `renameat2(RENAME_EXCHANGE)`.

use crate::attrs;
use crate::dataset::{fire, rename_exchange, rename_noreplace, HIDDEN_PREFIX};
use crate::error::{io, kernel, Result, StorageError};
use crate::handle::{open_dir, Pool};
use crate::layout::{Entry, Kind, SNAPDIR};
use crate::name::{AnyName, DatasetName, SnapshotName};
use crate::quota;
use std::fs::File;

impl Pool {
    /// `zfs snapshot [-r]`: snapshot `s.dataset` (and, with `recursive`,
    /// every dataset below it) as `@s.snap`.
    pub fn snapshot(&self, s: &SnapshotName, recursive: bool) -> Result<Vec<SnapshotName>> {
        let _lock = self.lock()?;
        let entries = self.entries()?;
        let targets: Vec<DatasetName> = entries
            .iter()
            .filter(|e| e.kind != Kind::Snapshot)
            .filter_map(|e| match &e.name {
                AnyName::Dataset(d)
                    if d == &s.dataset || (recursive && d.is_within(&s.dataset)) =>
                {
                    Some(d.clone())
                }
                _ => None,
            })
            .collect();
        if targets.is_empty() {
            return Err(StorageError::NoSuchDataset(s.dataset.to_string()));
        }
        // Every name is checked free before any is taken.
        let names: Vec<SnapshotName> = targets
            .iter()
            .map(|d| SnapshotName::of(d, &s.snap))
            .collect::<Result<_, _>>()?;
        for n in &names {
            if self.snapshot_path(n).exists() {
                return Err(StorageError::Exists(n.to_string()));
            }
        }
        for n in &names {
            self.snapshot_one(n)?;
        }
        Ok(names)
    }

    fn snapshot_one(&self, s: &SnapshotName) -> Result<()> {
        let ds_path = self.dataset_path(&s.dataset);
        let source = open_dir(&ds_path)?;
        let snapdir = ds_path.join(SNAPDIR);
        std::fs::create_dir_all(&snapdir).map_err(io(&snapdir))?;
        let dir = open_dir(&snapdir)?;
        let temp = format!("{HIDDEN_PREFIX}{}", s.snap);
        self.destroy_hidden(&dir, &snapdir.join(&temp))?;
        let id = self
            .kernel
            .subvol_id(&source)
            .map_err(kernel("snapshot", s))?;
        // Counters are current once the running transaction commits.
        self.sync()?;
        let refer = quota::referenced(self, &source, id)?;
        // Writable at first, to record what it references, then read-only:
        // a snapshot cannot be changed once it is one.
        self.kernel
            .snapshot(&source, &dir, &temp, false)
            .map_err(kernel("snapshot", s))?;
        let made = (|| {
            let snap = open_dir(&snapdir.join(&temp))?;
            attrs::set(&snap, attrs::REFER, Some(&refer.to_string()))
                .map_err(io(snapdir.join(&temp)))?;
            self.kernel
                .set_read_only(&snap, true)
                .map_err(kernel("snapshot", s))?;
            rename_noreplace(&dir, &temp, &dir, &s.snap).map_err(io(self.snapshot_path(s)))
        })();
        if let Err(e) = made {
            let _ = self.destroy_hidden(&dir, &snapdir.join(&temp));
            return Err(e);
        }
        fire(&s.to_string(), |n| probes::zfs::snapshot(|| (n, refer)));
        Ok(())
    }

    /// `zfs rollback [-r]`: return dataset `s.dataset` to snapshot `s`.
    /// Later snapshots must be destroyed (`recursive`) first, as in ZFS.
    pub fn rollback(&self, s: &SnapshotName, recursive: bool) -> Result<()> {
        let _lock = self.lock()?;
        let entries = self.entries()?;
        let target = entries
            .iter()
            .find(|e| e.name == AnyName::Snapshot(s.clone()))
            .ok_or_else(|| StorageError::NoSuchDataset(s.to_string()))?;
        let later: Vec<&Entry> = entries
            .iter()
            .filter(|e| match &e.name {
                AnyName::Snapshot(o) => {
                    o.dataset == s.dataset
                        && (e.record.otime, e.record.id) > (target.record.otime, target.record.id)
                }
                _ => false,
            })
            .collect();
        if !later.is_empty() {
            if !recursive {
                let names: Vec<String> = later.iter().map(|e| e.name.to_string()).collect();
                return Err(StorageError::Refused {
                    action: "rollback to",
                    name: s.to_string(),
                    why: format!(
                        "more recent snapshots exist; use '-r' to force deletion of the following snapshots: {}",
                        names.join(" ")
                    ),
                });
            }
            for e in &later {
                if !self.clones_of(&entries, e).is_empty() {
                    return Err(StorageError::Refused {
                        action: "rollback to",
                        name: s.to_string(),
                        why: format!("{} has dependent clones", e.name),
                    });
                }
            }
        }
        drop(_lock);
        for e in later {
            self.destroy(&e.name, false)?;
        }
        let _lock = self.lock()?;
        self.replace_head(s)?;
        let name = s.to_string();
        fire(&name, |n| probes::zfs::rollback(|| n));
        Ok(())
    }

    /// Make dataset `s.dataset` a writable snapshot of `s`, keeping its
    /// snapshots, children and qgroup; the pool's lock is held.
    pub(crate) fn replace_head(&self, s: &SnapshotName) -> Result<()> {
        let Some(parent) = s.dataset.parent() else {
            return Err(StorageError::Refused {
                action: "rollback to",
                name: s.to_string(),
                why: "a pool's root dataset cannot be rolled back on btrfs (its subvolume is the filesystem's top level)".into(),
            });
        };
        let ds_path = self.dataset_path(&s.dataset);
        let head = open_dir(&ds_path)?;
        let group = quota::group_of(&head);
        let parent_path = self.dataset_path(&parent);
        let parent_dir = open_dir(&parent_path)?;
        let temp = format!("{HIDDEN_PREFIX}{}", s.dataset.last());
        let temp_path = parent_path.join(&temp);
        self.destroy_hidden(&parent_dir, &temp_path)?;
        let snap = open_dir(&self.snapshot_path(s))?;
        self.kernel
            .snapshot(&snap, &parent_dir, &temp, false)
            .map_err(kernel("rollback to", s))?;
        let swapped = (|| {
            let new = open_dir(&temp_path)?;
            let id = self
                .kernel
                .subvol_id(&new)
                .map_err(kernel("rollback to", s))?;
            // The snapshot's own records are not the dataset's: its group
            // (a received snapshot carries its sender's) and references.
            let _ = attrs::set(&new, attrs::REFER, None);
            let _ = attrs::set(
                &new,
                attrs::GROUP,
                group.map(|g| g.id.to_string()).as_deref(),
            );
            if let Some(o) = attrs::get(&head, attrs::REFER).ok().flatten() {
                let _ = attrs::set(&new, attrs::REFER, Some(&o));
            }
            if let Some(g) = group {
                quota::join(self, id, &[g])?;
            }
            quota::join(self, id, &self.ancestor_groups(&s.dataset)?)?;
            self.kernel
                .set_read_only(&new, false)
                .map_err(kernel("rollback to", s))?;
            // Snapshots and children stay the dataset's.
            let subvols = self.subvolumes()?;
            let rel = s.dataset.relative();
            self.restore_nested(&ds_path, &temp_path, &subvols, &rel)?;
            rename_exchange(&parent_dir, &temp, s.dataset.last()).map_err(io(&ds_path))
        })();
        if let Err(e) = swapped {
            // Put back what moved, then drop the new head.
            let subvols = self.subvolumes()?;
            let rel = temp_path
                .strip_prefix(self.mountpoint())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = self.restore_nested(&temp_path, &ds_path, &subvols, &rel);
            let _ = self.destroy_hidden(&parent_dir, &temp_path);
            return Err(e);
        }
        // The old head, now under the hidden name, holds nothing nested.
        self.destroy_hidden(&parent_dir, &temp_path)?;
        Ok(())
    }

    /// `zfs clone SNAPSHOT DATASET`: a writable dataset from a snapshot,
    /// sharing its blocks (made in milliseconds whatever its size).
    pub fn clone_snapshot(&self, s: &SnapshotName, target: &DatasetName) -> Result<()> {
        let _lock = self.lock()?;
        self.clone_locked(s, target, |_| Ok(()))
    }

    /// [`Pool::clone_snapshot`], running `setup` on the clone before it
    /// is shown (a zone gives the files to its ids there).
    pub fn clone_with(
        &self,
        s: &SnapshotName,
        target: &DatasetName,
        setup: impl FnOnce(&std::path::Path) -> Result<()>,
    ) -> Result<()> {
        let _lock = self.lock()?;
        self.clone_locked(s, target, setup)
    }

    fn clone_locked(
        &self,
        s: &SnapshotName,
        target: &DatasetName,
        setup: impl FnOnce(&std::path::Path) -> Result<()>,
    ) -> Result<()> {
        if target.pool() != self.name() || s.dataset.pool() != self.name() {
            return Err(StorageError::Refused {
                action: "clone",
                name: s.to_string(),
                why: "a clone is made in its snapshot's pool".into(),
            });
        }
        let snap_path = self.snapshot_path(s);
        if !snap_path.is_dir() {
            return Err(StorageError::NoSuchDataset(s.to_string()));
        }
        if self.dataset_path(target).exists() {
            return Err(StorageError::Exists(target.to_string()));
        }
        let Some(parent) = target.parent() else {
            return Err(StorageError::Exists(target.to_string()));
        };
        let parent_path = self.dataset_path(&parent);
        if !parent_path.is_dir() {
            return Err(StorageError::Refused {
                action: "clone",
                name: target.to_string(),
                why: format!("parent '{parent}' does not exist"),
            });
        }
        let parent_dir = open_dir(&parent_path)?;
        let temp = format!("{HIDDEN_PREFIX}{}", target.last());
        let temp_path = parent_path.join(&temp);
        self.destroy_hidden(&parent_dir, &temp_path)?;
        let snap = open_dir(&snap_path)?;
        let refer = attrs::get(&snap, attrs::REFER).ok().flatten();
        self.kernel
            .snapshot(&snap, &parent_dir, &temp, false)
            .map_err(kernel("clone", target))?;
        let built = self.finish_new(&parent_dir, &temp, target, None, |dir| {
            // The clone references what its origin did, plus what it writes.
            attrs::set(dir, attrs::REFER, refer.as_deref()).map_err(io(&temp_path))?;
            // Snapshots of the origin show as empty directories in it.
            let _ = std::fs::remove_dir(temp_path.join(".zfs/snapshot"));
            let _ = std::fs::remove_dir(temp_path.join(".zfs"));
            setup(&temp_path)
        });
        if let Err(e) = built {
            let _ = self.destroy_hidden(&parent_dir, &temp_path);
            return Err(e);
        }
        let (a, b) = (s.to_string(), target.to_string());
        fire(&b, |n| probes::zfs::dataset__create(|| (n, 0)));
        fire(&a, |sn| fire(&b, |tn| probes::zfs::clone(|| (sn, tn))));
        Ok(())
    }

    /// `zfs promote CLONE`: the clone takes its origin's snapshots up to
    /// and including the origin snapshot, and the former origin dataset
    /// becomes a clone of the promoted one, so the origin can be destroyed.
    pub fn promote(&self, clone: &DatasetName) -> Result<()> {
        let _lock = self.lock()?;
        let entries = self.entries()?;
        let me = entries
            .iter()
            .find(|e| e.name == AnyName::Dataset(clone.clone()))
            .ok_or_else(|| StorageError::NoSuchDataset(clone.to_string()))?;
        let Some(AnyName::Snapshot(origin)) = self.origin_of(&entries, me) else {
            return Err(StorageError::Refused {
                action: "promote",
                name: clone.to_string(),
                why: "not a cloned filesystem".into(),
            });
        };
        let origin_entry = entries
            .iter()
            .find(|e| e.name == AnyName::Snapshot(origin.clone()))
            .ok_or_else(|| StorageError::NoSuchDataset(origin.to_string()))?;
        let moving: Vec<&Entry> = entries
            .iter()
            .filter(|e| match &e.name {
                AnyName::Snapshot(o) => {
                    o.dataset == origin.dataset
                        && (e.record.otime, e.record.id)
                            <= (origin_entry.record.otime, origin_entry.record.id)
                }
                _ => false,
            })
            .collect();
        for e in &moving {
            if let AnyName::Snapshot(o) = &e.name {
                let to = SnapshotName::of(clone, &o.snap)?;
                if self.snapshot_path(&to).exists() {
                    return Err(StorageError::Refused {
                        action: "promote",
                        name: clone.to_string(),
                        why: format!("snapshot name collision: {to} exists"),
                    });
                }
            }
        }
        // Other clones of the moving snapshots keep their origin, by name.
        for e in &moving {
            for c in self.clones_of(&entries, e) {
                if c.name.dataset() == clone {
                    continue;
                }
                if let (AnyName::Snapshot(o), Ok(f)) = (&e.name, File::open(&c.path)) {
                    let moved = SnapshotName::of(clone, &o.snap)?;
                    attrs::set(&f, attrs::ORIGIN, Some(&moved.to_string())).map_err(io(&c.path))?;
                }
            }
        }
        for e in &moving {
            if let AnyName::Snapshot(o) = &e.name {
                let to = self.snapshot_path(&SnapshotName::of(clone, &o.snap)?);
                self.move_subvol(&e.path, &to)?;
            }
        }
        let me_dir = open_dir(&self.dataset_path(clone))?;
        attrs::set(&me_dir, attrs::ORIGIN, Some("-")).map_err(io(self.dataset_path(clone)))?;
        let former = self.dataset_path(&origin.dataset);
        let new_origin = SnapshotName::of(clone, &origin.snap)?;
        if let Ok(f) = File::open(&former) {
            attrs::set(&f, attrs::ORIGIN, Some(&new_origin.to_string())).map_err(io(&former))?;
        }
        // Blocks the origin wrote that the clone now holds count as the
        // clone's too (simple quotas charge them to their writer).
        if let (Some(g), Ok(oid)) = (
            quota::group_of(&me_dir),
            File::open(&former)
                .map_err(io(&former))
                .and_then(|f| self.kernel.subvol_id(&f).map_err(kernel("promote", clone))),
        ) {
            let _ = quota::join(self, oid, &[g]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::name::SnapshotName;

    #[test]
    fn snapshot_names_of_datasets() {
        let s = SnapshotName::parse("zones/a@b").expect("valid");
        let t = SnapshotName::of(&s.dataset, "c").expect("valid");
        assert_eq!(t.to_string(), "zones/a@c");
    }
}
