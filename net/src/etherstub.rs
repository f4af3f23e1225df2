//! Etherstubs: Crossbow's virtual switches with no physical port, here a
//! Linux bridge with no spanning tree, in Lumen's link group.

use crate::error::{NetError, Result};
use crate::link::{self, Owned};
use crate::netlink::{Link, LinkChange, Netlink};

/// The longest etherstub name (Linux's `IFNAMSIZ` - 1).
pub const NAME_MAX: usize = 15;

/// `dladm create-etherstub NAME`: a bridge, up, marked as Lumen's.
/// Nothing is left if any step fails.
pub fn create(nl: &mut Netlink, name: &str) -> Result<Link> {
    link::check_name("etherstub", name, NAME_MAX)?;
    nl.create_bridge(name, link::GROUP).map_err(|e| match e {
        NetError::Exists { name, .. } => NetError::Exists { what: "link", name },
        e => e,
    })?;
    let finish = (|| {
        let l = nl.link(name)?.ok_or_else(|| NetError::NoSuchLink {
            what: "etherstub",
            name: name.into(),
        })?;
        host_silent(name)?;
        nl.set_link(
            l.index,
            &LinkChange {
                alias: Some(link::etherstub_alias()),
                up: Some(true),
                ..LinkChange::default()
            },
        )?;
        Ok(l)
    })();
    match finish {
        Ok(made) => Ok(nl.link_by_index(made.index)?.unwrap_or(made)),
        Err(e) => {
            if let Ok(Some(l)) = nl.link(name) {
                let _ = nl.del_link(l.index);
            }
            Err(e)
        }
    }
}

/// Keep the host's own stack off etherstub `name`, as a Crossbow
/// etherstub has no IP interface of its own: the bridge device answers no
/// ARP (`arp_ignore` 8) even for the host's addresses (Linux would answer
/// for any of them on any link), takes no IPv6 (`disable_ipv6`), and
/// drops what arrives for the host from sources it would not route back
/// through the bridge (`rp_filter` strict). Zones on an etherstub reach
/// each other, never the host, whatever addresses they use.
fn host_silent(name: &str) -> Result<()> {
    for (path, value) in [
        (format!("/proc/sys/net/ipv4/conf/{name}/arp_ignore"), "8"),
        (format!("/proc/sys/net/ipv4/conf/{name}/rp_filter"), "1"),
        (format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1"),
    ] {
        // A host without IPv6 has no such file: nothing to turn off.
        match std::fs::write(&path, value) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(NetError::State {
                    path: path.into(),
                    source: e,
                })
            }
            _ => {}
        }
    }
    Ok(())
}

/// `dladm delete-etherstub NAME`: refused while vNICs are over it.
pub fn delete(nl: &mut Netlink, name: &str) -> Result<()> {
    let stub = find(nl, name)?;
    let vnics = crate::vnic::list(nl)?;
    // Ports by the names dladm shows: a vNIC's, else the link's own.
    let ports: Vec<String> = nl
        .links()?
        .into_iter()
        .filter(|l| l.master == Some(stub.index))
        .map(|l| {
            vnics
                .iter()
                .find(|v| v.host.index == l.index)
                .map_or(l.name, |v| v.name.clone())
        })
        .collect();
    if !ports.is_empty() {
        return Err(NetError::WrongKind {
            name: name.into(),
            why: format!(
                "etherstub is in use by {} (delete those vNICs first)",
                ports.join(", ")
            ),
        });
    }
    nl.del_link(stub.index)
}

/// Etherstub `name`, or why it is not one.
pub fn find(nl: &mut Netlink, name: &str) -> Result<Link> {
    let l = nl.link(name)?.ok_or_else(|| NetError::NoSuchLink {
        what: "etherstub",
        name: name.into(),
    })?;
    match link::owned(&l) {
        Some(Owned::Etherstub) => Ok(l),
        // A bridge whose create was killed before its alias: still ours.
        Some(Owned::Unfinished) if l.kind.as_deref() == Some("bridge") => Ok(l),
        _ => Err(NetError::WrongKind {
            name: name.into(),
            why: "is not an etherstub".into(),
        }),
    }
}

/// Every etherstub.
pub fn list(nl: &mut Netlink) -> Result<Vec<Link>> {
    Ok(nl
        .links()?
        .into_iter()
        .filter(|l| {
            matches!(link::owned(l), Some(Owned::Etherstub))
                || (matches!(link::owned(l), Some(Owned::Unfinished))
                    && l.kind.as_deref() == Some("bridge"))
        })
        .collect())
}
