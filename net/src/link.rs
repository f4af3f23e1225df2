//! How Lumen knows its own links from the host's: every link it makes is
//! in link group [`GROUP`] from the request that creates it, and carries
//! a description of itself in its alias (`IFLA_IFALIAS`, written right
//! after). Both live in the kernel, so the links are their own records:
//! nothing on disk can disagree with them, and a create killed between
//! the two requests leaves a link that is still known to be Lumen's
//! ([`Owned::Unfinished`]), which `dladm` shows and deletes.

use crate::netlink::Link;
use std::collections::BTreeMap;

/// `IFLA_GROUP` of every link Lumen makes ("LM").
pub const GROUP: u32 = 0x4c4d;

/// What a link of Lumen's is, from its alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    /// An etherstub (a bridge).
    Etherstub,
    /// The host end of a vNIC; its description's words (`name=…`).
    Vnic(BTreeMap<String, String>),
    /// An `ifb` device shaping traffic from vNIC `of`.
    Ifb {
        /// The vNIC's name.
        of: String,
    },
    /// In Lumen's group, but its description was never written (its
    /// create was killed), or cannot be read.
    Unfinished,
}

const ETHERSTUB: &str = "lumen etherstub";
const VNIC: &str = "lumen vnic";
const IFB: &str = "lumen ifb";

/// What `link` is to Lumen, or `None` when it is not Lumen's.
pub fn owned(link: &Link) -> Option<Owned> {
    if link.group != GROUP {
        return None;
    }
    let Some(alias) = &link.alias else {
        return Some(Owned::Unfinished);
    };
    if alias == ETHERSTUB {
        return Some(Owned::Etherstub);
    }
    if let Some(rest) = alias.strip_prefix(IFB) {
        let words = words(rest);
        return Some(match words.get("of") {
            Some(of) => Owned::Ifb { of: of.clone() },
            None => Owned::Unfinished,
        });
    }
    if let Some(rest) = alias.strip_prefix(VNIC) {
        let w = words(rest);
        if w.contains_key("name") {
            return Some(Owned::Vnic(w));
        }
    }
    Some(Owned::Unfinished)
}

/// `key=value` words.
fn words(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The alias of an etherstub.
pub fn etherstub_alias() -> String {
    ETHERSTUB.into()
}

/// The alias of an ifb shaping vNIC `of`'s incoming traffic.
pub fn ifb_alias(of: &str) -> String {
    format!("{IFB} of={of}")
}

/// The alias of a vNIC's host end, from its words (values may not hold
/// spaces or `=`; the callers' values are names, MACs, numbers and
/// comma-separated lists).
pub fn vnic_alias(words: &BTreeMap<String, String>) -> String {
    let mut s = VNIC.to_string();
    for (k, v) in words {
        s.push(' ');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The most an alias holds (`IFALIASZ` - 1).
pub const ALIAS_MAX: usize = 255;

/// Whether `name` may name an etherstub or a vNIC: as a Crossbow link
/// name (a letter, then letters, digits and `_`, ending in a digit) and
/// short enough for Linux (`max` bytes).
pub fn check_name(field: &str, name: &str, max: usize) -> crate::Result<()> {
    let bad = |why: &str| crate::NetError::bad(field, name, why);
    if name.is_empty() || name.len() > max {
        return Err(bad(&format!("must be 1 to {max} characters")));
    }
    let b = name.as_bytes();
    if !b[0].is_ascii_lowercase() {
        return Err(bad("must start with a lowercase letter"));
    }
    if !b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
    {
        return Err(bad("may hold only lowercase letters, digits and '_'"));
    }
    if !b[b.len() - 1].is_ascii_digit() {
        return Err(bad("must end in a digit, as Crossbow's link names do"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(group: u32, alias: Option<&str>) -> Link {
        Link {
            group,
            alias: alias.map(String::from),
            ..Link::default()
        }
    }

    #[test]
    fn links_say_what_they_are() {
        assert_eq!(owned(&link(0, Some(ETHERSTUB))), None);
        assert_eq!(owned(&link(GROUP, Some(ETHERSTUB))), Some(Owned::Etherstub));
        assert_eq!(owned(&link(GROUP, None)), Some(Owned::Unfinished));
        assert_eq!(
            owned(&link(GROUP, Some("lumen ifb of=vnic0"))),
            Some(Owned::Ifb { of: "vnic0".into() })
        );
        let mut w = BTreeMap::new();
        w.insert("name".to_string(), "vnic0".to_string());
        w.insert("over".to_string(), "stub0".to_string());
        let alias = vnic_alias(&w);
        assert_eq!(alias, "lumen vnic name=vnic0 over=stub0");
        assert_eq!(owned(&link(GROUP, Some(&alias))), Some(Owned::Vnic(w)));
        assert_eq!(owned(&link(GROUP, Some("hello"))), Some(Owned::Unfinished));
    }

    #[test]
    fn names_follow_crossbow() {
        assert!(check_name("link", "stub0", 15).is_ok());
        assert!(check_name("link", "z12_net0", 13).is_ok());
        for bad in [
            "",
            "stub",
            "0stub",
            "Stub0",
            "st-ub0",
            "averyveryverylongname0",
        ] {
            let e = check_name("link", bad, 13).expect_err(bad).to_string();
            assert!(e.starts_with(&format!("link: {bad:?}")), "{e}");
        }
    }
}
