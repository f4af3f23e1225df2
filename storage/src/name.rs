//! Dataset and snapshot names (`pool/a/b`, `pool/a/b@snap`), checked by
//! ZFS's rules before any path is made of them; a refusal names the rule.

use std::fmt;

/// The longest name, as ZFS's `ZFS_MAX_DATASET_NAME_LEN` less its NUL.
pub const MAX_NAME_LEN: usize = 255;

/// Why a name was refused: the name and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid name {name:?}: {rule}")]
pub struct NameError {
    /// The name as given.
    pub name: String,
    /// The rule, in words.
    pub rule: String,
}

fn refuse(name: &str, rule: impl Into<String>) -> NameError {
    NameError {
        name: name.to_string(),
        rule: rule.into(),
    }
}

/// Check one component (a pool, dataset or snapshot name between `/`s).
fn component(full: &str, c: &str, what: &str) -> Result<(), NameError> {
    if c.is_empty() {
        return Err(refuse(
            full,
            format!("empty {what} (no '//', no '/' at either end)"),
        ));
    }
    if c == "." || c == ".." {
        return Err(refuse(full, format!("a {what} may not be '.' or '..'")));
    }
    if c.starts_with('.') {
        // Lumen keeps its unfinished work under names beginning with '.',
        // which listings never show.
        return Err(refuse(full, format!("a {what} may not begin with '.'")));
    }
    if let Some(bad) = c
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | ':')))
    {
        return Err(refuse(
            full,
            format!("{bad:?} is not allowed in a {what} (letters, digits, '_', '-', '.', ':')"),
        ));
    }
    Ok(())
}

/// Check a pool name: a component that begins with a letter and is not
/// one of the words ZFS reserves for vdev types.
pub fn check_pool(name: &str) -> Result<(), NameError> {
    component(name, name, "pool name")?;
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(refuse(name, "a pool name must begin with a letter"));
    }
    for reserved in [
        "mirror", "raidz", "draid", "spare", "log", "cache", "special",
    ] {
        if name.starts_with(reserved) {
            return Err(refuse(
                name,
                format!("a pool name may not begin with {reserved:?} (a vdev type)"),
            ));
        }
    }
    if name.len() > 64 {
        return Err(refuse(name, "a pool name is at most 64 characters"));
    }
    Ok(())
}

/// A dataset's name: its pool and the path below it (`pool/a/b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetName {
    pool: String,
    /// Components below the pool (empty for the pool's root dataset).
    path: Vec<String>,
}

impl DatasetName {
    /// Parse and check `pool[/a/b…]`.
    pub fn parse(name: &str) -> Result<DatasetName, NameError> {
        if name.len() > MAX_NAME_LEN {
            return Err(refuse(
                name,
                format!("a name is at most {MAX_NAME_LEN} characters"),
            ));
        }
        if name.contains('@') {
            return Err(refuse(
                name,
                "'@' separates a snapshot's name and may not appear in a dataset's",
            ));
        }
        if name.contains('%') || name.contains('#') {
            return Err(refuse(
                name,
                "'%' and '#' are not allowed in a dataset name",
            ));
        }
        let mut parts = name.split('/');
        let pool = parts.next().unwrap_or_default();
        check_pool(pool).map_err(|e| refuse(name, e.rule))?;
        let mut path = Vec::new();
        for c in parts {
            component(name, c, "dataset name component")?;
            path.push(c.to_string());
        }
        Ok(DatasetName {
            pool: pool.to_string(),
            path,
        })
    }

    /// The pool's root dataset.
    pub fn root(pool: &str) -> DatasetName {
        DatasetName {
            pool: pool.to_string(),
            path: Vec::new(),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &str {
        &self.pool
    }

    /// Components below the pool.
    pub fn components(&self) -> &[String] {
        &self.path
    }

    /// The path below the pool's mount (`a/b`; empty for the root).
    pub fn relative(&self) -> String {
        self.path.join("/")
    }

    /// The parent dataset (None for a pool's root).
    pub fn parent(&self) -> Option<DatasetName> {
        let mut p = self.clone();
        p.path.pop()?;
        Some(p)
    }

    /// The last component (the pool's name for its root).
    pub fn last(&self) -> &str {
        self.path.last().map_or(self.pool.as_str(), String::as_str)
    }

    /// A child of this dataset.
    pub fn child(&self, name: &str) -> Result<DatasetName, NameError> {
        DatasetName::parse(&format!("{self}/{name}"))
    }

    /// Whether `self` is `other` or below it.
    pub fn is_within(&self, other: &DatasetName) -> bool {
        self.pool == other.pool && self.path.starts_with(&other.path)
    }

    /// Its ancestors, nearest first (not itself).
    pub fn ancestors(&self) -> Vec<DatasetName> {
        let mut out = Vec::new();
        let mut d = self.parent();
        while let Some(p) = d {
            d = p.parent();
            out.push(p);
        }
        out
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pool)?;
        for c in &self.path {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// A snapshot's name: `dataset@snap`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotName {
    /// The dataset.
    pub dataset: DatasetName,
    /// The part after `@`.
    pub snap: String,
}

impl SnapshotName {
    /// Parse and check `dataset@snap`.
    pub fn parse(name: &str) -> Result<SnapshotName, NameError> {
        if name.len() > MAX_NAME_LEN {
            return Err(refuse(
                name,
                format!("a name is at most {MAX_NAME_LEN} characters"),
            ));
        }
        let Some((ds, snap)) = name.split_once('@') else {
            return Err(refuse(name, "a snapshot name is dataset@snapshot"));
        };
        if snap.contains('@') {
            return Err(refuse(
                name,
                "'@' may appear only once, before the snapshot's name",
            ));
        }
        if snap.contains('/') {
            return Err(refuse(
                name,
                "a snapshot's name (after '@') may not contain '/'",
            ));
        }
        let dataset = DatasetName::parse(ds).map_err(|e| refuse(name, e.rule))?;
        component(name, snap, "snapshot name")?;
        Ok(SnapshotName {
            dataset,
            snap: snap.to_string(),
        })
    }

    /// The same snapshot name on another dataset.
    pub fn of(dataset: &DatasetName, snap: &str) -> Result<SnapshotName, NameError> {
        SnapshotName::parse(&format!("{dataset}@{snap}"))
    }
}

impl fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.dataset, self.snap)
    }
}

/// A dataset or a snapshot, as `zfs` commands take them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyName {
    /// `pool/a`.
    Dataset(DatasetName),
    /// `pool/a@s`.
    Snapshot(SnapshotName),
}

impl AnyName {
    /// Parse either form.
    pub fn parse(name: &str) -> Result<AnyName, NameError> {
        if name.contains('@') {
            SnapshotName::parse(name).map(AnyName::Snapshot)
        } else {
            DatasetName::parse(name).map(AnyName::Dataset)
        }
    }

    /// The dataset (a snapshot's own).
    pub fn dataset(&self) -> &DatasetName {
        match self {
            AnyName::Dataset(d) => d,
            AnyName::Snapshot(s) => &s.dataset,
        }
    }
}

impl fmt::Display for AnyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyName::Dataset(d) => d.fmt(f),
            AnyName::Snapshot(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names() {
        let d = DatasetName::parse("zones/abc-1/data").expect("valid");
        assert_eq!(d.pool(), "zones");
        assert_eq!(d.relative(), "abc-1/data");
        assert_eq!(d.parent().expect("parent").to_string(), "zones/abc-1");
        assert_eq!(d.ancestors().len(), 2);
        let s = SnapshotName::parse("zones/img@final").expect("valid");
        assert_eq!(s.snap, "final");
        assert_eq!(s.to_string(), "zones/img@final");
        assert!(DatasetName::parse("tank").expect("root").parent().is_none());
    }

    #[test]
    fn bad_names_name_the_rule() {
        let rule = |n: &str| match AnyName::parse(n) {
            Err(e) => e.rule,
            Ok(_) => panic!("{n} accepted"),
        };
        assert!(rule("zones/../etc").contains("'.' or '..'"));
        assert!(rule("zones/a@b@c").contains("only once"));
        assert!(rule("zones/a@").contains("empty"));
        assert!(rule("zones//a").contains("empty"));
        assert!(rule("zones/a/").contains("empty"));
        assert!(rule("zones/a b").contains("not allowed"));
        assert!(rule(&format!("zones/{}", "x".repeat(300))).contains("at most 255"));
        assert!(rule("1pool").contains("begin with a letter"));
        assert!(rule("mirror0").contains("vdev type"));
        assert!(rule("zones/.hidden").contains("may not begin with '.'"));
        assert!(rule("zones/a@s/x").contains("may not contain '/'"));
        assert!(DatasetName::parse("zones/a@s")
            .unwrap_err()
            .rule
            .contains("'@'"));
    }
}
