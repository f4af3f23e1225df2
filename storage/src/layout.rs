//! Where a pool's datasets and snapshots are, and what is there: ZFS's
//! names mapped onto btrfs subvolumes, and back.
//!
//! In a pool mounted at `M`, dataset `pool/a/b` is the subvolume `M/a/b`
//! (nested in `a`'s), so its mountpoint is its place, as a ZFS dataset's
//! inherited mountpoint is; snapshot `pool/a/b@s` is the read-only
//! subvolume `M/a/b/.zfs/snapshot/s`, where ZFS shows it too. A volume
//! is a dataset holding one sparse, NOCOW file ([`crate::volume`]). The
//! listing ([`Pool::entries`]) reads the other way: every subvolume of the
//! pool, named by its path, work in progress left out; and a clone's
//! origin is read from the listing.
//!
//! Apart from [`crate::dataset`] because reading a pool needs only this,
//! not the machinery that makes and destroys datasets: [`crate::props`]
//! computes properties from the listing and is also what a dataset's
//! create calls to set them, so what it reads has to sit below both.

use crate::attrs;
use crate::btrfs::SubvolRecord;
use crate::error::{kernel, Result, StorageError};
use crate::handle::Pool;
use crate::name::{AnyName, DatasetName, SnapshotName};
use std::fs::File;
use std::path::PathBuf;

/// The directory of a dataset's snapshots, below its root.
pub const SNAPDIR: &str = ".zfs/snapshot";

/// What a dataset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file system.
    Filesystem,
    /// A volume (a VM's disk).
    Volume,
    /// A read-only snapshot.
    Snapshot,
}

impl Kind {
    /// ZFS's word for it (`zfs list -t`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Filesystem => "filesystem",
            Kind::Volume => "volume",
            Kind::Snapshot => "snapshot",
        }
    }
}

/// A dataset or snapshot of a pool.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its name.
    pub name: AnyName,
    /// What it is.
    pub kind: Kind,
    /// What btrfs says of its subvolume.
    pub record: SubvolRecord,
    /// Where it is.
    pub path: PathBuf,
}

impl Pool {
    /// The path of dataset `d`.
    pub fn dataset_path(&self, d: &DatasetName) -> PathBuf {
        let rel = d.relative();
        if rel.is_empty() {
            self.mountpoint().to_path_buf()
        } else {
            self.mountpoint().join(rel)
        }
    }

    /// The path of snapshot `s`.
    pub fn snapshot_path(&self, s: &SnapshotName) -> PathBuf {
        self.dataset_path(&s.dataset).join(SNAPDIR).join(&s.snap)
    }

    /// The path of a dataset or snapshot.
    pub fn path_of(&self, n: &AnyName) -> PathBuf {
        match n {
            AnyName::Dataset(d) => self.dataset_path(d),
            AnyName::Snapshot(s) => self.snapshot_path(s),
        }
    }

    /// What a subvolume at `rel` (from the pool's top) is, by its path: a
    /// dataset, a snapshot, or hidden work (None).
    fn classify(&self, rel: &str) -> Option<AnyName> {
        if rel.is_empty() {
            return Some(AnyName::Dataset(DatasetName::root(self.name())));
        }
        let parts: Vec<&str> = rel.split('/').collect();
        let n = parts.len();
        if n >= 3 && parts[n - 3] == ".zfs" && parts[n - 2] == "snapshot" {
            let ds = parts[..n - 3].join("/");
            let full = if ds.is_empty() {
                format!("{}@{}", self.name(), parts[n - 1])
            } else {
                format!("{}/{ds}@{}", self.name(), parts[n - 1])
            };
            return SnapshotName::parse(&full).ok().map(AnyName::Snapshot);
        }
        DatasetName::parse(&format!("{}/{rel}", self.name()))
            .ok()
            .map(AnyName::Dataset)
    }

    /// Every subvolume of the pool, hidden ones too.
    pub(crate) fn subvolumes(&self) -> Result<Vec<SubvolRecord>> {
        self.kernel
            .subvolumes(&self.top)
            .map_err(kernel("list datasets of", self.name()))
    }

    /// Every dataset and snapshot, in name order (a dataset, then its
    /// snapshots, then its children).
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        for r in self.subvolumes()? {
            let Some(name) = self.classify(&r.path) else {
                continue;
            };
            let path = self.path_of(&name);
            let kind = match &name {
                AnyName::Snapshot(_) => Kind::Snapshot,
                AnyName::Dataset(_) => match File::open(&path)
                    .ok()
                    .and_then(|f| attrs::get(&f, attrs::TYPE).ok().flatten())
                {
                    Some(t) if t == "volume" => Kind::Volume,
                    _ => Kind::Filesystem,
                },
            };
            out.push(Entry {
                name,
                kind,
                record: r,
                path,
            });
        }
        // Snapshots sort after their dataset, in the order they were taken.
        out.sort_by(|a, b| {
            let key = |e: &Entry| match &e.name {
                AnyName::Dataset(d) => (d.clone(), 0, 0, 0),
                AnyName::Snapshot(s) => (s.dataset.clone(), 1, e.record.otime, e.record.id),
            };
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    /// One dataset or snapshot.
    pub fn entry(&self, name: &AnyName) -> Result<Entry> {
        self.entries()?
            .into_iter()
            .find(|e| &e.name == name)
            .ok_or_else(|| StorageError::NoSuchDataset(name.to_string()))
    }

    /// Whether dataset or snapshot `name` exists.
    pub fn exists(&self, name: &AnyName) -> bool {
        let path = self.path_of(name);
        // A stat first: most lookups are of names that do not exist.
        path.is_dir() && self.entry(name).is_ok()
    }

    /// The datasets that are clones of snapshot `snap`.
    pub fn clones_of<'a>(&self, entries: &'a [Entry], snap: &Entry) -> Vec<&'a Entry> {
        entries
            .iter()
            .filter(|e| e.kind != Kind::Snapshot)
            .filter(|e| self.origin_of(entries, e).as_ref() == Some(&snap.name))
            .collect()
    }

    /// The snapshot a dataset was cloned from (ZFS's `origin`): the one
    /// recorded by a promote, else the snapshot its subvolume was made from
    /// when that is another dataset's.
    pub fn origin_of(&self, entries: &[Entry], e: &Entry) -> Option<AnyName> {
        if e.kind == Kind::Snapshot {
            return None;
        }
        if let Some(o) = File::open(&e.path)
            .ok()
            .and_then(|f| attrs::get(&f, attrs::ORIGIN).ok().flatten())
        {
            return match o.as_str() {
                "-" => None,
                _ => AnyName::parse(&o).ok(),
            };
        }
        if e.record.parent_uuid == [0; 16] {
            return None;
        }
        entries
            .iter()
            .find(|s| s.kind == Kind::Snapshot && s.record.uuid == e.record.parent_uuid)
            .filter(|s| s.name.dataset() != e.name.dataset())
            .map(|s| s.name.clone())
    }
}
