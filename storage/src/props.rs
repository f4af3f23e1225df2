//! Dataset properties, as `zfs get` shows them and `zfs set` changes
//! them: each computed from btrfs (qgroups, subvolume flags and times,
//! extended attributes), none stored twice.

use crate::attrs;
use crate::error::{io, kernel, Result, StorageError};
use crate::handle::{open_dir, Pool};
use crate::layout::{Entry, Kind};
use crate::name::{AnyName, DatasetName};
use crate::quota;
use std::fs::File;

/// What a listing has read already: each dataset's space numbers and
/// compression, by subvolume id.
#[derive(Debug, Default)]
pub struct ListingCache {
    space: std::collections::HashMap<u64, quota::Space>,
    compression: std::collections::HashMap<u64, (String, Source)>,
}

/// Every property, in `zfs get all`'s order.
pub const ALL: &[&str] = &[
    "type",
    "creation",
    "used",
    "available",
    "referenced",
    "mounted",
    "quota",
    "refquota",
    "mountpoint",
    "compression",
    "readonly",
    "origin",
    "volsize",
    "guid",
];

/// Short names `zfs` also takes.
pub fn canonical(name: &str) -> Option<&'static str> {
    Some(match name {
        "avail" => "available",
        "refer" => "referenced",
        "compress" => "compression",
        "rdonly" => "readonly",
        n => ALL.iter().find(|p| **p == n)?,
    })
}

/// Where a property's value comes from (`zfs get`'s SOURCE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Computed or fixed: `-`.
    None,
    /// Set on this dataset.
    Local,
    /// Not set anywhere.
    Default,
    /// Set on an ancestor.
    Inherited(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::None => f.write_str("-"),
            Source::Local => f.write_str("local"),
            Source::Default => f.write_str("default"),
            Source::Inherited(from) => write!(f, "inherited from {from}"),
        }
    }
}

/// One property's value: as people read it, exact (`-p`), and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    /// The property.
    pub name: &'static str,
    /// `1.50G`, `Mon Dec  7 19:45 2026`.
    pub human: String,
    /// `1610612736`, `1796672700`.
    pub exact: String,
    /// Its source.
    pub source: Source,
}

/// A size as ZFS prints it: 1024-based, at most three significant digits
/// (`0B`, `512B`, `96K`, `1.50M`, `15.5G`, `155T`).
pub fn nicenum(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}{}", UNITS[0]);
    }
    let mut u = 0;
    let mut v = n as f64;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if n.is_multiple_of(1u64 << (10 * u)) {
        return format!("{}{}", n >> (10 * u), UNITS[u]);
    }
    for digits in [2usize, 1, 0] {
        let s = format!("{v:.digits$}");
        if s.len() <= 4 {
            return format!("{s}{}", UNITS[u]);
        }
    }
    format!("{v:.0}{}", UNITS[u])
}

/// Parse a size: `1024`, `512M`, `1.5G`, `10g` (1024-based, as zfs does).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().ok()?;
    let shift = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        "E" => 60,
        _ => return None,
    };
    let bytes = v * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// A creation time as `zfs get creation` prints it (local time).
pub fn format_time(secs: u64) -> String {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r fills the struct it is given.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: as above; strftime writes at most buf.len() bytes.
    unsafe {
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%a %b %e %H:%M %Y".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

fn refuse(name: &impl ToString, why: impl Into<String>) -> StorageError {
    StorageError::Property {
        name: name.to_string(),
        why: why.into(),
    }
}

/// Check `prop=value` for dataset `name` before anything changes.
pub fn check(name: &DatasetName, prop: &str, value: &str) -> Result<()> {
    let Some(p) = canonical(prop) else {
        return Err(refuse(name, format!("invalid property '{prop}'")));
    };
    match p {
        "quota" | "refquota" => {
            if value != "none" && parse_size(value).is_none() {
                return Err(refuse(
                    name,
                    format!("bad {p} value '{value}' (a size such as 10G, or none)"),
                ));
            }
        }
        "compression" => {
            if !matches!(value, "off" | "on" | "zstd" | "lzo" | "zlib") {
                return Err(refuse(
                    name,
                    format!("'compression' must be one of 'on | off | zstd | lzo | zlib', not '{value}'"),
                ));
            }
        }
        "readonly" => {
            if !matches!(value, "on" | "off") {
                return Err(refuse(name, format!("'readonly' must be 'on' or 'off', not '{value}'")));
            }
        }
        "volsize" => {
            if parse_size(value).is_none() {
                return Err(refuse(name, format!("bad volsize '{value}'")));
            }
        }
        "mountpoint" => {
            return Err(refuse(
                name,
                "'mountpoint' follows the dataset's place in its pool on Lumen (rename the dataset, or give the pool another with zpool create -m)",
            ))
        }
        _ => return Err(refuse(name, format!("'{p}' is read-only"))),
    }
    Ok(())
}

/// Set `prop=value` on dataset `name` whose directory is `dir`.
pub fn set_on(pool: &Pool, name: &DatasetName, dir: &File, prop: &str, value: &str) -> Result<()> {
    check(name, prop, value)?;
    let p = canonical(prop).unwrap_or_default();
    let limit = || (value != "none").then(|| parse_size(value).unwrap_or(0));
    match p {
        "quota" => {
            let g = quota::group_of(dir)
                .ok_or_else(|| refuse(name, "the dataset has no qgroup of its own"))?;
            quota::set_limit(pool, g, limit(), true)
        }
        "refquota" => {
            let id = pool
                .kernel
                .subvol_id(dir)
                .map_err(kernel("set refquota on", name))?;
            quota::set_limit(pool, quota::own(id), limit(), false)
        }
        "compression" => {
            let v = match value {
                "off" => "no",
                "on" => "zstd",
                v => v,
            };
            attrs::set(dir, attrs::COMPRESSION, Some(v)).map_err(io(pool.dataset_path(name)))
        }
        "readonly" => pool
            .kernel
            .set_read_only(dir, value == "on")
            .map_err(kernel("set readonly on", name)),
        "volsize" => crate::volume::resize(pool, dir, name, parse_size(value).unwrap_or(0)),
        _ => Err(refuse(name, format!("'{p}' is read-only"))),
    }
}

impl Pool {
    /// `zfs set`: one property of a dataset; compression is passed on
    /// to the descendants that inherited it.
    pub fn set_property(&self, name: &DatasetName, prop: &str, value: &str) -> Result<()> {
        let _lock = self.lock()?;
        let path = self.dataset_path(name);
        if !self.exists(&AnyName::Dataset(name.clone())) {
            return Err(StorageError::NoSuchDataset(name.to_string()));
        }
        let dir = open_dir(&path)?;
        if canonical(prop) == Some("compression") {
            let before = attrs::get(&dir, attrs::COMPRESSION).ok().flatten();
            set_on(self, name, &dir, prop, value)?;
            let after = attrs::get(&dir, attrs::COMPRESSION).ok().flatten();
            for e in self.entries()? {
                let AnyName::Dataset(d) = &e.name else {
                    continue;
                };
                if d == name || !d.is_within(name) {
                    continue;
                }
                let Ok(f) = open_dir(&e.path) else { continue };
                if attrs::get(&f, attrs::COMPRESSION).ok().flatten() == before {
                    attrs::set(&f, attrs::COMPRESSION, after.as_deref()).map_err(io(&e.path))?;
                }
            }
            return Ok(());
        }
        set_on(self, name, &dir, prop, value)
    }

    /// Bytes free in the pool for data.
    pub fn free_bytes(&self) -> u64 {
        use std::os::fd::AsRawFd;
        // SAFETY: fstatvfs fills the struct it is given.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above, on an fd we own.
        if unsafe { libc::fstatvfs(self.top.as_raw_fd(), &mut st) } != 0 {
            return 0;
        }
        st.f_bavail.saturating_mul(st.f_frsize)
    }

    /// Every property of `e` (`entries` is the pool's listing, for
    /// ancestors and origins), in [`ALL`]'s order.
    pub fn properties(&self, entries: &[Entry], e: &Entry) -> Result<Vec<Prop>> {
        self.properties_cached(entries, e, &mut ListingCache::default())
    }

    /// [`Pool::properties`], sharing what `cache` already read of other
    /// entries (a listing reads each ancestor's numbers once, not once per
    /// descendant).
    pub fn properties_cached(
        &self,
        entries: &[Entry],
        e: &Entry,
        cache: &mut ListingCache,
    ) -> Result<Vec<Prop>> {
        let dir = File::open(&e.path).map_err(io(&e.path))?;
        let group = (e.kind != Kind::Snapshot)
            .then(|| quota::group_of(&dir))
            .flatten();
        let space = quota::space(self, e.record.id, group)?;
        let refer = match e.kind {
            Kind::Snapshot => attrs::get(&dir, attrs::REFER)
                .ok()
                .flatten()
                .and_then(|r| r.parse().ok())
                .unwrap_or(space.own),
            _ => quota::referenced(self, &dir, e.record.id)?,
        };
        let mut out = Vec::new();
        let mut push = |name: &'static str, human: String, exact: String, source: Source| {
            out.push(Prop {
                name,
                human,
                exact,
                source,
            })
        };
        let bytes = |n: u64| (nicenum(n), n.to_string());
        let none = || ("-".to_string(), "-".to_string());
        push(
            "type",
            e.kind.as_str().into(),
            e.kind.as_str().into(),
            Source::None,
        );
        push(
            "creation",
            format_time(e.record.otime),
            e.record.otime.to_string(),
            Source::None,
        );
        let (h, x) = if e.kind == Kind::Snapshot {
            bytes(space.own)
        } else {
            bytes(space.used)
        };
        push("used", h, x, Source::None);
        let (h, x) = if e.kind == Kind::Snapshot {
            none()
        } else {
            bytes(self.available(entries, e, &space, cache)?)
        };
        push("available", h, x, Source::None);
        let (h, x) = bytes(refer);
        push("referenced", h, x, Source::None);
        let mounted = if e.kind == Kind::Filesystem {
            "yes"
        } else {
            "-"
        };
        push("mounted", mounted.into(), mounted.into(), Source::None);
        for (p, v) in [("quota", space.quota), ("refquota", space.refquota)] {
            let (h, x, src) = match (e.kind, v) {
                (Kind::Snapshot, _) => ("-".into(), "-".into(), Source::None),
                (_, Some(v)) => (nicenum(v), v.to_string(), Source::Local),
                (_, None) => ("none".into(), "0".into(), Source::Default),
            };
            push(p, h, x, src);
        }
        let mp = match e.kind {
            Kind::Filesystem => e.path.display().to_string(),
            _ => "-".into(),
        };
        push("mountpoint", mp.clone(), mp, Source::Default);
        let (comp, src) = self.compression(entries, e, &dir, cache);
        push("compression", comp.clone(), comp, src);
        let ro = if e.record.read_only { "on" } else { "off" };
        push(
            "readonly",
            ro.into(),
            ro.into(),
            if e.kind == Kind::Snapshot {
                Source::None
            } else if e.record.read_only {
                Source::Local
            } else {
                Source::Default
            },
        );
        let origin = self
            .origin_of(entries, e)
            .map_or("-".to_string(), |o| o.to_string());
        push("origin", origin.clone(), origin, Source::None);
        let (h, x) = match e.kind {
            Kind::Volume => attrs::get(&dir, attrs::VOLSIZE)
                .ok()
                .flatten()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or_else(none, bytes),
            _ => none(),
        };
        let src = if e.kind == Kind::Volume {
            Source::Local
        } else {
            Source::None
        };
        push("volsize", h, x, src);
        let guid = crate::btrfs::format_uuid(&e.record.uuid);
        push("guid", guid.clone(), guid, Source::None);
        Ok(out)
    }

    /// `available`: the pool's free space, less what the dataset's and
    /// its ancestors' quotas leave.
    fn available(
        &self,
        entries: &[Entry],
        e: &Entry,
        space: &quota::Space,
        cache: &mut ListingCache,
    ) -> Result<u64> {
        let mut avail = self.free_bytes();
        if let Some(q) = space.quota {
            avail = avail.min(q.saturating_sub(space.used));
        }
        if let Some(q) = space.refquota {
            avail = avail.min(q.saturating_sub(space.own));
        }
        for a in e.name.dataset().ancestors() {
            let Some(ae) = entries
                .iter()
                .find(|x| x.name == AnyName::Dataset(a.clone()))
            else {
                continue;
            };
            let s = match cache.space.get(&ae.record.id) {
                Some(s) => *s,
                None => {
                    let g = File::open(&ae.path).ok().and_then(|f| quota::group_of(&f));
                    let s = quota::space(self, ae.record.id, g)?;
                    cache.space.insert(ae.record.id, s);
                    s
                }
            };
            if let Some(q) = s.quota {
                avail = avail.min(q.saturating_sub(s.used));
            }
        }
        Ok(avail)
    }

    /// A dataset's compression and where it comes from.
    fn compression(
        &self,
        entries: &[Entry],
        e: &Entry,
        dir: &File,
        cache: &mut ListingCache,
    ) -> (String, Source) {
        if let Some(c) = cache.compression.get(&e.record.id) {
            return c.clone();
        }
        let c = self.compression_uncached(entries, e, dir, cache);
        cache.compression.insert(e.record.id, c.clone());
        c
    }

    fn compression_uncached(
        &self,
        entries: &[Entry],
        e: &Entry,
        dir: &File,
        cache: &mut ListingCache,
    ) -> (String, Source) {
        let norm = |v: Option<String>| match v.as_deref() {
            None | Some("") | Some("no") | Some("none") => "off".to_string(),
            Some(v) => v.split(':').next().unwrap_or(v).to_string(),
        };
        let mine = norm(attrs::get(dir, attrs::COMPRESSION).ok().flatten());
        if e.kind == Kind::Snapshot {
            return (mine, Source::None);
        }
        let mut parent_value = None;
        if let Some(p) = e.name.dataset().parent() {
            if let Some(pe) = entries
                .iter()
                .find(|x| x.name == AnyName::Dataset(p.clone()))
            {
                if let Ok(pd) = File::open(&pe.path) {
                    let (v, src) = self.compression(entries, pe, &pd, cache);
                    let from = match src {
                        Source::Local => Some(p.to_string()),
                        Source::Inherited(f) => Some(f),
                        _ => None,
                    };
                    parent_value = Some((v, from));
                }
            }
        }
        match parent_value {
            Some((v, Some(from))) if v == mine => (mine, Source::Inherited(from)),
            _ if mine == "off" => (mine, Source::Default),
            _ => (mine, Source::Local),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_zfs_prints_them() {
        assert_eq!(nicenum(0), "0B");
        assert_eq!(nicenum(512), "512B");
        assert_eq!(nicenum(96 << 10), "96K");
        assert_eq!(nicenum(3 << 19), "1.50M");
        assert_eq!(nicenum((155u64 << 30) + (1 << 29)), "156G");
        assert_eq!(nicenum((15u64 << 30) + (1 << 29)), "15.5G");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("10g"), Some(10 << 30));
        assert_eq!(parse_size("2GB"), Some(2 << 30));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1"), None);
    }

    #[test]
    fn bad_properties_are_refused_by_name() {
        let d = DatasetName::parse("tank/a").expect("valid");
        let why = |p, v| match check(&d, p, v) {
            Err(StorageError::Property { why, .. }) => why,
            other => panic!("{p}={v}: {other:?}"),
        };
        assert!(why("quota", "big").contains("bad quota value"));
        assert!(why("compression", "gzip").contains("must be one of"));
        assert!(why("used", "1").contains("read-only"));
        assert!(why("color", "red").contains("invalid property"));
        check(&d, "quota", "10G").expect("valid");
        check(&d, "refquota", "none").expect("valid");
        check(&d, "compress", "zstd").expect("valid");
    }
}
