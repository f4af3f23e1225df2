//! A zone's storage, when the node has its `zones` pool (mounted where the
//! registry keeps zones, `LUMEN_ROOT/zones`): the zone's directory is the
//! dataset `zones/UUID` (its root at `root/` inside, as on SmartOS), made
//! empty or cloned from an image's `zones/IMAGE@final`, capped by the
//! manifest's `quota`; `delegate_dataset` adds `zones/UUID/data`, and a
//! `kvm` VM's disks are volumes `zones/UUID-diskN`. Without the pool,
//! zones keep plain directories and these fields are refused.
//!
//! A zone cloned from an image keeps the image's file owners on disk (as
//! a SmartOS zone does) and sees them through an idmapped mount of its
//! root onto its own id range ([`crate::rootfs`]): provisioning costs a
//! clone, whatever the image's size, never a walk of its files.

use crate::error::RegistryError;
use crate::manifest::Manifest;
use std::path::{Path, PathBuf};
use storage::dataset::CreateOptions;
use storage::name::{AnyName, DatasetName, SnapshotName};
use storage::pool::{Pool, Pools};

/// The pool zones live on.
pub const POOL: &str = "zones";
/// The snapshot of an image that zones are cloned from.
pub const IMAGE_SNAPSHOT: &str = "final";
/// In a zone's directory: present when its root is the image's files
/// seen through an idmapped mount.
pub const IDMAPPED: &str = "idmapped";

fn err(e: storage::StorageError) -> RegistryError {
    RegistryError::Storage(e)
}

/// The `zones` pool of state directory `root`, if it has one (mounted
/// again if its mount is gone).
pub fn open(root: &Path) -> Result<Option<Pool>, RegistryError> {
    let pools = Pools::at(root).map_err(err)?;
    if !pools.exists(POOL) {
        return Ok(None);
    }
    pools.open(POOL).map(Some).map_err(err)
}

fn name(rel: &str) -> Result<DatasetName, RegistryError> {
    DatasetName::parse(&format!("{POOL}/{rel}")).map_err(|e| err(e.into()))
}

/// `zones/UUID`.
pub fn zone_dataset(uuid: &str) -> Result<DatasetName, RegistryError> {
    name(uuid)
}

/// `zones/UUID/data`, a zone's delegated dataset.
pub fn data_dataset(uuid: &str) -> Result<DatasetName, RegistryError> {
    name(&format!("{uuid}/data"))
}

/// `zones/UUID-diskN`, a VM's disk.
pub fn disk_dataset(uuid: &str, index: usize) -> Result<DatasetName, RegistryError> {
    name(&format!("{uuid}-disk{index}"))
}

/// `zones/IMAGE@final`.
pub fn image_snapshot(image: &str) -> Result<SnapshotName, RegistryError> {
    SnapshotName::parse(&format!("{POOL}/{image}@{IMAGE_SNAPSHOT}")).map_err(|e| err(e.into()))
}

/// Refuse what only a pool gives when there is none.
pub fn check_without_pool(m: &Manifest) -> Result<(), RegistryError> {
    let mut problems = Vec::new();
    if m.image_uuid.is_some() {
        problems.push("$.image_uuid: zones from images need the zones pool (lumen zpool create)");
    }
    if m.quota.is_some() {
        problems.push("$.quota: a quota needs the zones pool (lumen zpool create)");
    }
    if m.delegate_dataset {
        problems.push(
            "$.delegate_dataset: a delegated dataset needs the zones pool (lumen zpool create)",
        );
    }
    if m.vm
        .as_ref()
        .is_some_and(|v| v.disks.iter().any(|d| d.image_uuid.is_some()))
    {
        problems.push("$.disks: disks from images need the zones pool (lumen zpool create)");
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(RegistryError::Manifest(crate::manifest::ManifestError {
        problems: problems.into_iter().map(String::from).collect(),
    }))
}

/// Make zone `m`'s dataset with the registry's files written into it by
/// `write` before it is shown: a clone of its image, or a new dataset.
pub fn create_zone(
    pool: &Pool,
    m: &Manifest,
    mut write: impl FnMut(&Path) -> Result<(), RegistryError>,
) -> Result<(), RegistryError> {
    let ds = zone_dataset(&m.uuid)?;
    let mut failed: Option<RegistryError> = None;
    let mut setup = |path: &Path| -> storage::Result<()> {
        if let Some(q) = m.quota {
            let dir = std::fs::File::open(path).map_err(|e| storage::StorageError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
            storage::props::set_on(pool, &ds, &dir, "quota", &format!("{q}G"))?;
        }
        if let Err(e) = write(path) {
            failed = Some(e);
            return Err(storage::StorageError::Refused {
                action: "create",
                name: ds.to_string(),
                why: "the zone's records could not be written".into(),
            });
        }
        Ok(())
    };
    let made = match &m.image_uuid {
        Some(image) => {
            let snap = image_snapshot(image)?;
            if !pool.exists(&AnyName::Snapshot(snap.clone())) {
                return Err(RegistryError::Manifest(crate::manifest::ManifestError {
                    problems: vec![format!(
                        "$.image_uuid: no image {image} (import it with lumen imgadm import)"
                    )],
                }));
            }
            pool.clone_with(&snap, &ds, |p| {
                setup(p)?;
                std::fs::write(p.join(IDMAPPED), "").map_err(|e| storage::StorageError::Io {
                    path: p.join(IDMAPPED),
                    source: e,
                })
            })
        }
        None => pool.create_with(&ds, &CreateOptions::default(), setup),
    };
    if let Some(e) = failed {
        return Err(e);
    }
    made.map_err(err)?;
    if m.delegate_dataset {
        pool.create(&data_dataset(&m.uuid)?, &CreateOptions::default())
            .map_err(err)?;
    }
    Ok(())
}

/// Whether zone `uuid`'s directory is a dataset of `pool`.
pub fn is_dataset(pool: &Pool, uuid: &str) -> bool {
    zone_dataset(uuid).is_ok_and(|d| pool.exists(&AnyName::Dataset(d)))
}

/// Destroy zone `uuid`'s dataset (snapshots, delegated dataset and all)
/// and its VM's disks.
pub fn destroy_zone(pool: &Pool, uuid: &str) -> Result<(), RegistryError> {
    let entries = pool.entries().map_err(err)?;
    let disk_prefix = format!("{POOL}/{uuid}-disk");
    let mut doomed: Vec<AnyName> = entries
        .iter()
        .filter(|e| matches!(e.name, AnyName::Dataset(_)))
        .filter(|e| e.name.to_string().starts_with(&disk_prefix))
        .map(|e| e.name.clone())
        .collect();
    let zone = AnyName::Dataset(zone_dataset(uuid)?);
    if entries.iter().any(|e| e.name == zone) {
        doomed.push(zone);
    }
    for d in doomed {
        pool.destroy(&d, true).map_err(err)?;
    }
    Ok(())
}

/// The volume file of VM `uuid`'s disk `index`, made (sparse, `size_mib`)
/// or cloned from `image` if it does not exist yet.
pub fn disk_volume(
    pool: &Pool,
    uuid: &str,
    index: usize,
    size_mib: Option<u64>,
    image: Option<&str>,
) -> Result<PathBuf, RegistryError> {
    let ds = disk_dataset(uuid, index)?;
    if !pool.exists(&AnyName::Dataset(ds.clone())) {
        match image {
            Some(i) => {
                let snap = image_snapshot(i)?;
                pool.clone_snapshot(&snap, &ds).map_err(err)?;
            }
            None => {
                let size = size_mib.unwrap_or(0) << 20;
                pool.create(
                    &ds,
                    &CreateOptions {
                        volsize: Some(size),
                        ..Default::default()
                    },
                )
                .map_err(err)?;
            }
        }
    }
    pool.volume_file(&ds).map_err(err)
}

/// Set zone `uuid`'s quota (GiB; None lifts it).
pub fn set_quota(pool: &Pool, uuid: &str, gib: Option<u64>) -> Result<(), RegistryError> {
    let v = gib.map_or("none".to_string(), |q| format!("{q}G"));
    pool.set_property(&zone_dataset(uuid)?, "quota", &v)
        .map_err(err)
}
