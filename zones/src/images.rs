//! Images, as SmartOS's `imgadm` keeps them: an image is the dataset
//! `zones/IMAGE_UUID` on the `zones` pool, holding `root/` (a zone image's
//! files) or a volume (a `zvol` image, a VM's disk), and its manifest;
//! its snapshot `@final` is what zones and disks are cloned from.
//! `import` builds the dataset whole before it is shown and snapshots it;
//! `delete` is refused while a clone of it lives.

use crate::datasets::{self, IMAGE_SNAPSHOT};
use crate::error::RegistryError;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use storage::dataset::{CreateOptions, Kind};
use storage::name::{AnyName, SnapshotName};
use storage::pool::Pool;

/// The image manifest's file in the image's dataset.
pub const MANIFEST: &str = "image.json";

/// Why an image could not be imported or deleted.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image manifest is wrong.
    #[error("invalid image manifest {}: {}", .path.display(), .problems.join("; "))]
    Manifest {
        /// Its file.
        path: PathBuf,
        /// `$.field: what is wrong`.
        problems: Vec<String>,
    },
    /// No `zones` pool.
    #[error("images live on the zones pool; make it first (lumen zpool create)")]
    NoPool,
    /// No such image.
    #[error("image {0} is not installed")]
    NoSuchImage(String),
    /// It is installed already.
    #[error("image {0} is already installed")]
    Exists(String),
    /// Zones or disks are clones of it.
    #[error("image {uuid} is in use by {clones}; delete those first")]
    InUse {
        /// The image.
        uuid: String,
        /// Its clones.
        clones: String,
    },
    /// Unpacking failed.
    #[error("unpacking {}: {why}", .path.display())]
    Unpack {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        why: String,
    },
    /// The storage or registry said no.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn storage_err(e: storage::StorageError) -> ImageError {
    ImageError::Registry(RegistryError::Storage(e))
}

/// An installed image: its manifest's fields as `imgadm list` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Its UUID.
    pub uuid: String,
    /// The manifest.
    pub manifest: Map<String, Value>,
}

impl Image {
    /// A manifest field as text (`-` when absent).
    pub fn field(&self, name: &str) -> String {
        match self.manifest.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "-".into(),
        }
    }
}

/// Check an image manifest: `uuid`, `name`, `version`, and `type`
/// (`zone-dataset` or `zvol`).
pub fn check_manifest(path: &Path, text: &str) -> Result<Map<String, Value>, ImageError> {
    let bad = |p: Vec<String>| ImageError::Manifest {
        path: path.to_path_buf(),
        problems: p,
    };
    let v: Value =
        serde_json::from_str(text).map_err(|e| bad(vec![format!("$: not JSON: {e}")]))?;
    let Value::Object(m) = v else {
        return Err(bad(vec!["$: expected an object".into()]));
    };
    let mut problems = Vec::new();
    let s = |k: &str| m.get(k).and_then(Value::as_str);
    match s("uuid") {
        Some(u) if uuid::Uuid::parse_str(u).is_ok() && u.len() == 36 => {}
        _ => problems.push("$.uuid: expected the image's UUID (8-4-4-4-12 hex digits)".into()),
    }
    for k in ["name", "version"] {
        if s(k).is_none_or(str::is_empty) {
            problems.push(format!("$.{k}: expected a non-empty string"));
        }
    }
    match s("type") {
        Some("zone-dataset") | Some("zvol") => {}
        other => problems.push(format!(
            "$.type: {other:?} is not an image type Lumen has (zone-dataset, zvol)"
        )),
    }
    if !problems.is_empty() {
        return Err(bad(problems));
    }
    Ok(m)
}

/// `imgadm import -m MANIFEST FILE|DIR`: a root file system (a tarball,
/// compressed or not, or a directory) or a disk image (`zvol`) becomes
/// `zones/UUID@final`.
pub fn import(pool: &Pool, manifest_path: &Path, source: &Path) -> Result<Image, ImageError> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| ImageError::Manifest {
        path: manifest_path.to_path_buf(),
        problems: vec![format!("$: cannot be read: {e}")],
    })?;
    let manifest = check_manifest(manifest_path, &text)?;
    let uuid = manifest
        .get("uuid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let ds = datasets::zone_dataset(&uuid)?;
    let snap = datasets::image_snapshot(&uuid)?;
    if pool.exists(&AnyName::Snapshot(snap.clone())) {
        return Err(ImageError::Exists(uuid));
    }
    if pool.exists(&AnyName::Dataset(ds.clone())) {
        // An import killed between its dataset and its snapshot: redo it.
        if !pool.dataset_path(&ds).join(MANIFEST).exists() {
            return Err(ImageError::Exists(uuid));
        }
        pool.destroy(&AnyName::Dataset(ds.clone()), true)
            .map_err(storage_err)?;
    }
    let zvol = manifest.get("type").and_then(Value::as_str) == Some("zvol");
    let pretty = serde_json::to_string_pretty(&Value::Object(manifest.clone()))
        .unwrap_or_else(|_| text.clone());
    let mut unpacked: Option<ImageError> = None;
    let opts = if zvol {
        let size = std::fs::metadata(source)
            .map_err(|e| ImageError::Unpack {
                path: source.to_path_buf(),
                why: e.to_string(),
            })?
            .len();
        CreateOptions {
            volsize: Some(size.div_ceil(512).max(1) * 512),
            ..Default::default()
        }
    } else {
        CreateOptions::default()
    };
    let made = pool.create_with(&ds, &opts, |dir| {
        let r = if zvol {
            copy_into_volume(source, &dir.join(storage::volume::FILE))
        } else {
            unpack(source, &dir.join("root"))
        };
        let r = r.and_then(|()| {
            std::fs::write(dir.join(MANIFEST), &pretty).map_err(|e| ImageError::Unpack {
                path: dir.join(MANIFEST),
                why: e.to_string(),
            })
        });
        r.map_err(|e| {
            let why = e.to_string();
            unpacked = Some(e);
            storage::StorageError::Refused {
                action: "import image",
                name: ds.to_string(),
                why,
            }
        })
    });
    if let Some(e) = unpacked {
        return Err(e);
    }
    made.map_err(storage_err)?;
    pool.snapshot(&snap, false).map_err(storage_err)?;
    Ok(Image { uuid, manifest })
}

/// Unpack a tarball (any compression GNU tar knows) or copy a directory
/// into `root`, keeping owners, modes, links and times.
fn unpack(source: &Path, root: &Path) -> Result<(), ImageError> {
    let fail = |why: String| ImageError::Unpack {
        path: source.to_path_buf(),
        why,
    };
    std::fs::create_dir(root).map_err(|e| fail(e.to_string()))?;
    let out = if source.is_dir() {
        std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", source.display()))
            .arg(root)
            .output()
    } else {
        std::process::Command::new("tar")
            .args(["-x", "-p", "--numeric-owner", "--xattrs", "-f"])
            .arg(source)
            .arg("-C")
            .arg(root)
            .output()
    }
    .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(())
}

/// Copy a disk image's bytes into a volume's file, leaving its holes.
fn copy_into_volume(source: &Path, volume: &Path) -> Result<(), ImageError> {
    use std::os::unix::fs::FileExt;
    let fail = |why: String| ImageError::Unpack {
        path: source.to_path_buf(),
        why,
    };
    let src = std::fs::File::open(source).map_err(|e| fail(e.to_string()))?;
    let dst = std::fs::OpenOptions::new()
        .write(true)
        .open(volume)
        .map_err(|e| fail(e.to_string()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let n = src
            .read_at(&mut buf, off)
            .map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|b| *b != 0) {
            dst.write_all_at(&buf[..n], off)
                .map_err(|e| fail(e.to_string()))?;
        }
        off += n as u64;
    }
    dst.sync_all().map_err(|e| fail(e.to_string()))
}

/// Every installed image (a dataset of the pool with a manifest and `@final`).
pub fn list(pool: &Pool) -> Result<Vec<Image>, ImageError> {
    let entries = pool.entries().map_err(storage_err)?;
    let mut out = Vec::new();
    for e in &entries {
        let AnyName::Snapshot(s) = &e.name else {
            continue;
        };
        if s.snap != IMAGE_SNAPSHOT || s.dataset.components().len() != 1 {
            continue;
        }
        let path = pool.dataset_path(&s.dataset).join(MANIFEST);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(manifest) = check_manifest(&path, &text) {
            out.push(Image {
                uuid: s.dataset.last().to_string(),
                manifest,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.field("name"), a.field("version")).cmp(&(b.field("name"), b.field("version")))
    });
    Ok(out)
}

/// `imgadm delete UUID`: refused while a zone or disk is a clone of it.
pub fn delete(pool: &Pool, uuid: &str) -> Result<(), ImageError> {
    let snap: SnapshotName = datasets::image_snapshot(uuid)?;
    let entries = pool.entries().map_err(storage_err)?;
    let Some(final_entry) = entries
        .iter()
        .find(|e| e.name == AnyName::Snapshot(snap.clone()))
    else {
        return Err(ImageError::NoSuchImage(uuid.to_string()));
    };
    let clones: Vec<String> = pool
        .clones_of(&entries, final_entry)
        .iter()
        .filter(|c| c.kind != Kind::Snapshot)
        .map(|c| c.name.to_string())
        .collect();
    if !clones.is_empty() {
        return Err(ImageError::InUse {
            uuid: uuid.to_string(),
            clones: clones.join(", "),
        });
    }
    pool.destroy(&AnyName::Dataset(snap.dataset.clone()), true)
        .map_err(storage_err)?;
    Ok(())
}

/// The pool images live on.
pub fn open_pool(root: &Path) -> Result<Pool, ImageError> {
    datasets::open(root)?.ok_or(ImageError::NoPool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_checked_by_field() {
        let p = Path::new("m.json");
        let e = check_manifest(p, r#"{"uuid": "x", "type": "lx"}"#).unwrap_err();
        let ImageError::Manifest { problems, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].starts_with("$.uuid"));
        assert!(problems[3].contains("zone-dataset, zvol"));
        let ok = check_manifest(
            p,
            r#"{"uuid": "1b0dc3f0-0000-4000-8000-000000000001", "name": "base", "version": "1.0", "type": "zone-dataset"}"#,
        )
        .expect("valid");
        assert_eq!(ok["name"], "base");
    }
}
