//! SmartOS nic tags: the names manifests use (`nics[].nic_tag`) for the
//! links zones' vNICs go over. `nictagadm add TAG LINK` maps a tag to an
//! etherstub or a host link; `nictagadm add -l TAG` makes a local tag,
//! backed by an etherstub of its own (`TAG0`), as SmartOS's are.
//!
//! Tags are the one piece of `net`'s state on disk (links live in the
//! kernel and go at reboot; tags must outlive it): `LUMEN_ROOT/net/
//! nictags.json`, replaced atomically. A local tag's etherstub is made
//! again when a zone needs it after a reboot.

use crate::error::{NetError, Result};
use crate::netlink::Netlink;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a tag maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NicTag {
    /// The tag.
    pub name: String,
    /// The link vNICs of this tag go over.
    pub link: String,
    /// A local tag (its own etherstub) rather than a host link.
    pub local: bool,
}

/// The tags of a node.
#[derive(Debug, Clone)]
pub struct NicTags {
    path: PathBuf,
    tags: BTreeMap<String, NicTag>,
}

fn state_err(path: &Path) -> impl Fn(std::io::Error) -> NetError + '_ {
    move |source| NetError::State {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `name` may be a nic tag (SmartOS: letters, digits, `_` and
/// `-`, at most 31; its local etherstub name must fit Linux's 15).
pub fn check_tag(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 31
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(NetError::bad(
            field,
            name,
            "is not a nic tag (1 to 31 letters, digits, '_' or '-')",
        ));
    }
    Ok(())
}

impl NicTags {
    /// The tags under `lumen_root` (none yet if the file does not exist).
    pub fn load(lumen_root: &Path) -> Result<NicTags> {
        let path = lumen_root.join("net").join("nictags.json");
        let tags = match std::fs::read_to_string(&path) {
            Ok(text) => parse(&path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(state_err(&path)(e)),
        };
        Ok(NicTags { path, tags })
    }

    /// Every tag, by name.
    pub fn list(&self) -> impl Iterator<Item = &NicTag> {
        self.tags.values()
    }

    /// Tag `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&NicTag> {
        self.tags.get(name)
    }

    /// `nictagadm add TAG LINK` (or `add -l TAG`: `link` is `None`, and an
    /// etherstub `TAG0` is made). The link must exist.
    pub fn add(&mut self, nl: &mut Netlink, name: &str, link: Option<&str>) -> Result<NicTag> {
        check_tag("nic tag", name)?;
        if self.tags.contains_key(name) {
            return Err(NetError::Exists {
                what: "nic tag",
                name: name.into(),
            });
        }
        let tag = match link {
            Some(l) => {
                if nl.link(l)?.is_none() {
                    return Err(NetError::NoSuchLink {
                        what: "link",
                        name: l.into(),
                    });
                }
                NicTag {
                    name: name.into(),
                    link: l.into(),
                    local: false,
                }
            }
            None => {
                let stub = local_stub(name)?;
                if nl.link(&stub)?.is_none() {
                    crate::etherstub::create(nl, &stub)?;
                }
                NicTag {
                    name: name.into(),
                    link: stub,
                    local: true,
                }
            }
        };
        self.tags.insert(name.into(), tag.clone());
        if let Err(e) = self.save() {
            self.tags.remove(name);
            return Err(e);
        }
        Ok(tag)
    }

    /// `nictagadm delete TAG` (a local tag's etherstub goes too, when no
    /// vNIC is over it).
    pub fn delete(&mut self, nl: &mut Netlink, name: &str) -> Result<()> {
        let Some(tag) = self.tags.remove(name) else {
            return Err(NetError::NoSuchLink {
                what: "nic tag",
                name: name.into(),
            });
        };
        if tag.local && nl.link(&tag.link)?.is_some() {
            if let Err(e) = crate::etherstub::delete(nl, &tag.link) {
                self.tags.insert(name.into(), tag);
                return Err(e);
            }
        }
        self.save()
    }

    /// The link a NIC of tag `name` goes over (given for `field`), made
    /// again if it is a local tag's etherstub that a reboot took.
    pub fn resolve(&self, nl: &mut Netlink, field: &str, name: &str) -> Result<String> {
        let tag = self.tags.get(name).ok_or_else(|| {
            NetError::bad(
                field,
                name,
                "is not a nic tag of this node (see lumen nictagadm list)",
            )
        })?;
        if nl.link(&tag.link)?.is_none() {
            if tag.local {
                crate::etherstub::create(nl, &tag.link)?;
            } else {
                return Err(NetError::NoSuchLink {
                    what: "link",
                    name: format!("{} (nic tag {name})", tag.link),
                });
            }
        }
        Ok(tag.link.clone())
    }

    fn save(&self) -> Result<()> {
        let err = state_err(&self.path);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(&err)?;
        }
        let mut obj = serde_json::Map::new();
        for t in self.tags.values() {
            obj.insert(
                t.name.clone(),
                serde_json::json!({"link": t.link, "local": t.local}),
            );
        }
        let text = format!("{:#}\n", serde_json::Value::Object(obj));
        let tmp = self.path.with_extension("json.new");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(&err)?;
            f.write_all(text.as_bytes()).map_err(&err)?;
            f.sync_all().map_err(&err)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(&err)
    }
}

/// The etherstub of local tag `tag`.
fn local_stub(tag: &str) -> Result<String> {
    let stub = format!("{}0", tag.to_ascii_lowercase().replace('-', "_"));
    crate::link::check_name("nic tag", &stub, crate::etherstub::NAME_MAX)?;
    Ok(stub)
}

fn parse(path: &Path, text: &str) -> Result<BTreeMap<String, NicTag>> {
    let bad = |why: String| NetError::State {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let mut out = BTreeMap::new();
    for (name, t) in obj {
        let link = t
            .get("link")
            .and_then(|l| l.as_str())
            .ok_or_else(|| bad(format!("{name}: no link")))?;
        let local = t.get("local").and_then(|l| l.as_bool()).unwrap_or(false);
        out.insert(
            name.clone(),
            NicTag {
                name: name.clone(),
                link: link.into(),
                local,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_and_local_stubs_named() {
        assert!(check_tag("t", "admin").is_ok());
        assert!(check_tag("t", "sdc_underlay").is_ok());
        assert!(check_tag("t", "").is_err());
        assert!(check_tag("t", "a b").is_err());
        assert_eq!(local_stub("internal").unwrap(), "internal0");
        assert!(local_stub("averyveryverylongtag").is_err());
    }

    #[test]
    fn the_file_reads_back() {
        let dir = std::env::temp_dir().join(format!("lumen-nictag-{}", std::process::id()));
        let mut t = NicTags {
            path: dir.join("net").join("nictags.json"),
            tags: BTreeMap::new(),
        };
        t.tags.insert(
            "admin".into(),
            NicTag {
                name: "admin".into(),
                link: "stub0".into(),
                local: false,
            },
        );
        t.save().unwrap();
        let again = NicTags::load(&dir).unwrap();
        assert_eq!(again.get("admin"), t.get("admin"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
