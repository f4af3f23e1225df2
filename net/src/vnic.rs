//! vNICs: a veth pair whose host end is a port of an etherstub (or a
//! macvlan over a physical link), with a MAC, a VLAN id, a bandwidth cap
//! and anti-spoofing.
//!
//! The host end carries everything Lumen knows about the vNIC (see
//! [`crate::link`]): its name, what it is over, its MAC and where that came
//! from, its VLAN id, its zone and its properties. The other end, the
//! client's, is where addresses go: inside a zone it is `net0`, `net1`…
//! in the zone's network namespace; for a vNIC made in the global zone
//! with `dladm create-vnic` it is the vNIC's own name, and its host end is
//! named `NAME_h`. Either way the properties act on the host end, where
//! the client cannot reach them.
//!
//! A create is one netlink request for the pair (both ends appear at
//! once, the client end already in its namespace), then its description,
//! then its traffic control; if any step fails the pair is removed, so a
//! failed create leaves nothing.

use crate::error::{NetError, Result};
use crate::link::{self, Owned};
use crate::mac::{MacAddr, MacKind};
use crate::netlink::{Link, LinkChange, Netlink, Netns, VethSpec};
use crate::record::{describe, from_link, unfinished};

// The vNIC and its properties are `record`'s and `props`' (traffic
// control reads them, and this module calls traffic control);
// `vnic::{Vnic, VnicKind, VnicProps}` stay the paths users know.
pub use crate::props::VnicProps;
pub use crate::record::{Vnic, VnicKind};

/// The longest vNIC name: Linux's 15, less the `_h` of a global vNIC's
/// host end.
pub const NAME_MAX: usize = 13;

/// Which MAC a new vNIC gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacRequest {
    /// A random one (`-m random`, the default).
    Random,
    /// This one (`-m 2:8:20:…`).
    Fixed(MacAddr),
    /// The same on every boot, from a seed (a zone's UUID and NIC index):
    /// what vmadm would have picked and kept.
    Derived(String),
}

/// Where a new vNIC's client end goes.
#[derive(Debug, Clone, Copy)]
pub enum Placement<'a> {
    /// The global zone: the client end is named after the vNIC.
    Global,
    /// A zone: the client end is made in its network namespace.
    Zone {
        /// The zone's UUID.
        uuid: &'a str,
        /// Its network namespace.
        netns: Netns<'a>,
        /// The client end's name there (`net0`).
        client: &'a str,
    },
}

/// A vNIC to make.
#[derive(Debug, Clone)]
pub struct VnicRequest<'a> {
    /// Its name.
    pub name: &'a str,
    /// The etherstub or physical link it goes over (`-l`).
    pub over: &'a str,
    /// Its MAC.
    pub mac: MacRequest,
    /// VLAN id, 0 for none (`-v`).
    pub vid: u16,
    /// Its properties (`-p`).
    pub props: VnicProps,
    /// Where its client end goes.
    pub placement: Placement<'a>,
}

/// Check a VLAN id given as text for `field` (`-v`, `$.nics[0].vlan_id`).
pub fn parse_vid(field: &str, text: &str) -> Result<u16> {
    match text.trim().parse::<u16>() {
        Ok(v) if v <= 4094 => Ok(v),
        _ => Err(NetError::bad(
            field,
            text,
            "is not a VLAN id (1 to 4094; 0 for none)",
        )),
    }
}

/// Every vNIC whose host end is in `nl`'s namespace.
pub fn list(nl: &mut Netlink) -> Result<Vec<Vnic>> {
    let links = nl.links()?;
    let name_of = |index: Option<u32>| -> String {
        index
            .and_then(|i| links.iter().find(|l| l.index == i))
            .map_or_else(|| "?".into(), |l| l.name.clone())
    };
    let mut out = Vec::new();
    for l in &links {
        match link::owned(l) {
            Some(Owned::Vnic(w)) => out.push(from_link(l.clone(), &w)),
            Some(Owned::Unfinished) if l.kind.as_deref() != Some("bridge") => {
                let over = if l.kind.as_deref() == Some("macvlan") {
                    name_of(l.link)
                } else {
                    name_of(l.master)
                };
                out.push(unfinished(l.clone(), over));
            }
            _ => {}
        }
    }
    // A finished global vNIC's client end is in Lumen's group too, with
    // no description of its own: it is part of its vNIC, not another.
    let clients: Vec<String> = out
        .iter()
        .filter(|v| v.complete && v.zone.is_none() && v.kind == VnicKind::Veth)
        .map(|v| v.client.clone())
        .collect();
    out.retain(|v| v.complete || !clients.contains(&v.host.name));
    // An unfinished global vNIC shows once, by its own name (its host
    // end `NAME_h` is the other half of the same pair).
    let names: Vec<String> = out.iter().map(|v| v.name.clone()).collect();
    out.retain(|v| {
        v.complete
            || !v
                .name
                .strip_suffix("_h")
                .is_some_and(|n| names.iter().any(|m| m == n))
    });
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// vNIC `name`.
pub fn find(nl: &mut Netlink, name: &str) -> Result<Vnic> {
    list(nl)?
        .into_iter()
        .find(|v| v.name == name)
        .ok_or_else(|| NetError::NoSuchLink {
            what: "vnic",
            name: name.into(),
        })
}

/// What a new vNIC goes over: an etherstub (veth), or a physical link
/// (macvlan).
fn over_kind(nl: &mut Netlink, over: &str) -> Result<(Link, VnicKind)> {
    let l = nl.link(over)?.ok_or_else(|| NetError::NoSuchLink {
        what: "link",
        name: over.into(),
    })?;
    match (link::owned(&l), l.kind.as_deref()) {
        (Some(Owned::Etherstub), _) | (_, Some("bridge")) => Ok((l, VnicKind::Veth)),
        (None, None) if l.name != "lo" && l.mac.is_some() => Ok((l, VnicKind::Macvlan)),
        (Some(Owned::Vnic(_)), _) => Err(NetError::WrongKind {
            name: over.into(),
            why: "is a vNIC; a vNIC goes over an etherstub or a physical link".into(),
        }),
        (_, kind) => Err(NetError::WrongKind {
            name: over.into(),
            why: format!(
                "is a {} link; a vNIC goes over an etherstub or a physical link",
                kind.unwrap_or("loopback")
            ),
        }),
    }
}

/// `dladm create-vnic`, and a zone's NIC at boot: make the vNIC, describe
/// it, and apply its properties. Fires `vnic:::create`.
pub fn create(nl: &mut Netlink, req: &VnicRequest<'_>) -> Result<Vnic> {
    link::check_name("vnic", req.name, NAME_MAX)?;
    if req.name.starts_with("lmif") {
        // The shapers' names (`lmifbN`), which `vnic:::tx` tells apart.
        return Err(NetError::bad(
            "vnic",
            req.name,
            "starts with lmif, which Lumen keeps for its shapers",
        ));
    }
    if req.vid > 4094 {
        return Err(NetError::bad(
            "vid",
            req.vid.to_string(),
            "is not a VLAN id (1 to 4094; 0 for none)",
        ));
    }
    let (over, kind) = over_kind(nl, req.over)?;
    let (mac, mac_kind) = match &req.mac {
        MacRequest::Random => (MacAddr::random(), MacKind::Random),
        MacRequest::Fixed(m) => (*m, MacKind::Fixed),
        MacRequest::Derived(seed) => (MacAddr::derived(seed), MacKind::Random),
    };
    let (host_name, client, zone, netns) = match req.placement {
        Placement::Global => (
            if kind == VnicKind::Veth {
                format!("{}_h", req.name)
            } else {
                req.name.to_string()
            },
            req.name.to_string(),
            None,
            Netns::Here,
        ),
        Placement::Zone {
            uuid,
            netns,
            client,
        } => (
            req.name.to_string(),
            client.to_string(),
            Some(uuid.to_string()),
            netns,
        ),
    };
    if kind == VnicKind::Macvlan && zone.is_some() {
        return Err(NetError::WrongKind {
            name: req.over.into(),
            why: "is a physical link; a zone's NIC goes over an etherstub here \
                  (macvlan vNICs are for the global zone)"
                .into(),
        });
    }
    let mut vnic = Vnic {
        name: req.name.to_string(),
        host: Link::default(),
        kind,
        over: over.name.clone(),
        mac: Some(mac),
        mac_kind,
        vid: req.vid,
        zone,
        client: client.clone(),
        props: req.props.clone(),
        complete: true,
    };
    // Checked before anything is made: a description too long to keep.
    let alias = describe(&vnic)?;
    if nl.link(&host_name)?.is_some() {
        return Err(NetError::Exists {
            what: "link",
            name: host_name,
        });
    }
    if matches!(req.placement, Placement::Global) && nl.link(&client)?.is_some() {
        return Err(NetError::Exists {
            what: "link",
            name: client,
        });
    }
    match kind {
        VnicKind::Veth => nl.create_veth(&VethSpec {
            name: host_name.clone(),
            mac: None,
            master: Some(over.index),
            group: link::GROUP,
            peer_name: client.clone(),
            peer_mac: Some(mac),
            peer_netns: netns,
        })?,
        VnicKind::Macvlan => {
            nl.create_macvlan(&host_name, over.index, Some(mac), link::GROUP, Netns::Here)?
        }
        VnicKind::Tap => {
            return Err(NetError::WrongKind {
                name: req.name.into(),
                why: "taps are made by the VM's zone, not by dladm".into(),
            })
        }
    }
    let finished = (|| {
        let host = nl.link(&host_name)?.ok_or_else(|| NetError::NoSuchLink {
            what: "vnic",
            name: host_name.clone(),
        })?;
        nl.set_link(
            host.index,
            &LinkChange {
                alias: Some(alias.clone()),
                up: Some(true),
                ..LinkChange::default()
            },
        )?;
        if matches!(req.placement, Placement::Global) && kind == VnicKind::Veth {
            if let Some(c) = nl.link(&client)? {
                nl.set_link(
                    c.index,
                    &LinkChange {
                        up: Some(true),
                        ..LinkChange::default()
                    },
                )?;
            }
        }
        vnic.host = nl.link_by_index(host.index)?.unwrap_or(host);
        crate::traffic::apply(nl, &vnic, None)?;
        Ok(())
    })();
    if let Err(e) = finished {
        // No half-made vNIC: the pair goes (the client end with it).
        if let Ok(Some(l)) = nl.link(&host_name) {
            let _ = crate::traffic::remove(nl, &l);
            let _ = nl.del_link(l.index);
        }
        return Err(e);
    }
    fire_create(&vnic);
    Ok(vnic)
}

/// Open tap `name` (new, not persistent: it goes when the last of its
/// descriptors closes), non-blocking; its descriptor.
fn open_tap(name: &str) -> Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, OwnedFd};
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    const IFF_TAP: libc::c_short = 0x0002;
    const IFF_NO_PI: libc::c_short = 0x1000;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map_err(|e| NetError::Sys {
            call: "open /dev/net/tun".into(),
            errno: crate::error::Errno(e.raw_os_error().unwrap_or(0)),
        })?;
    // SAFETY: ifreq is plain data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes().take(15)) {
        *d = s as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = IFF_TAP | IFF_NO_PI;
    // TUNSETIFF on an existing persistent tap would attach to it: refuse
    // names that exist, as any other vNIC's.
    // SAFETY: TUNSETIFF reads and writes one ifreq that lives across it.
    if unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, &mut req) } < 0 {
        return Err(NetError::last_os(format!("TUNSETIFF {name}")));
    }
    Ok(OwnedFd::from(file))
}

/// A VM's NIC: a tap named `name` on etherstub `over`, the guest's MAC
/// `mac` (what anti-spoofing allows), in zone `uuid` as its NIC
/// `interface`. Returns the vNIC and the tap's descriptor, for the VMM:
/// the tap lives as long as a descriptor does. Fires `vnic:::create`.
pub fn create_tap(
    nl: &mut Netlink,
    req: &VnicRequest<'_>,
    uuid: &str,
    interface: &str,
) -> Result<(Vnic, std::os::fd::OwnedFd)> {
    link::check_name("vnic", req.name, NAME_MAX)?;
    let (over, kind) = over_kind(nl, req.over)?;
    if kind != VnicKind::Veth {
        return Err(NetError::WrongKind {
            name: req.over.into(),
            why: "is not an etherstub; a VM's NIC goes on one".into(),
        });
    }
    let (mac, mac_kind) = match &req.mac {
        MacRequest::Random => (MacAddr::random(), MacKind::Random),
        MacRequest::Fixed(m) => (*m, MacKind::Fixed),
        MacRequest::Derived(seed) => (MacAddr::derived(seed), MacKind::Random),
    };
    let mut vnic = Vnic {
        name: req.name.to_string(),
        host: Link::default(),
        kind: VnicKind::Tap,
        over: over.name.clone(),
        mac: Some(mac),
        mac_kind,
        vid: req.vid,
        zone: Some(uuid.to_string()),
        client: interface.to_string(),
        props: req.props.clone(),
        complete: true,
    };
    let alias = describe(&vnic)?;
    if nl.link(req.name)?.is_some() {
        return Err(NetError::Exists {
            what: "link",
            name: req.name.into(),
        });
    }
    let fd = open_tap(req.name)?;
    // On any failure the descriptor closes and the tap goes with it.
    let tap = nl.link(req.name)?.ok_or_else(|| NetError::NoSuchLink {
        what: "tap",
        name: req.name.into(),
    })?;
    nl.set_link(
        tap.index,
        &LinkChange {
            group: Some(link::GROUP),
            alias: Some(alias),
            master: Some(over.index),
            up: Some(true),
            ..LinkChange::default()
        },
    )?;
    vnic.host = nl.link_by_index(tap.index)?.unwrap_or(tap);
    if let Err(e) = crate::traffic::apply(nl, &vnic, None) {
        let _ = crate::traffic::remove(nl, &vnic.host);
        return Err(e);
    }
    fire_create(&vnic);
    Ok((vnic, fd))
}

fn fire_create(v: &Vnic) {
    let name = std::ffi::CString::new(v.name.as_str()).unwrap_or_default();
    let zone = std::ffi::CString::new(v.zone.as_deref().unwrap_or("global")).unwrap_or_default();
    let over = std::ffi::CString::new(v.over.as_str()).unwrap_or_default();
    probes::vnic::create(|| (name.as_ptr(), zone.as_ptr(), over.as_ptr()));
}

/// `dladm delete-vnic`: remove the vNIC (and its shaper). A zone's vNIC
/// is refused unless `zone_ok` (the zone's own teardown, or `vmadm
/// update` removing it). Fires `vnic:::destroy`.
pub fn delete(nl: &mut Netlink, name: &str, zone_ok: bool) -> Result<()> {
    let v = find(nl, name)?;
    if let (Some(z), false) = (&v.zone, zone_ok) {
        return Err(NetError::WrongKind {
            name: name.into(),
            why: format!(
                "belongs to zone {z}; remove it from the zone (vmadm update {z} \
                 remove_nics=…) or stop the zone"
            ),
        });
    }
    crate::traffic::remove(nl, &v.host)?;
    nl.del_link(v.host.index)?;
    // A global vNIC whose create was killed may have only its client end.
    if !v.complete && v.host.kind.as_deref() == Some("veth") {
        if let Some(rest) = v.name.strip_suffix("_h") {
            if let Ok(Some(c)) = nl.link(rest) {
                if c.group == link::GROUP {
                    let _ = nl.del_link(c.index);
                }
            }
        }
    }
    let cname = std::ffi::CString::new(v.name.as_str()).unwrap_or_default();
    let zone = std::ffi::CString::new(v.zone.as_deref().unwrap_or("global")).unwrap_or_default();
    probes::vnic::destroy(|| (cname.as_ptr(), zone.as_ptr()));
    Ok(())
}

/// `dladm set-linkprop`: change a vNIC's properties; the host end's
/// description and traffic control follow. `mtu` changes both ends'
/// MTU where the client end is reachable (`client_nl`: a socket in the
/// zone's namespace, or `None` for the global zone's).
pub fn set_props(
    nl: &mut Netlink,
    name: &str,
    props: VnicProps,
    mtu: Option<u32>,
    client_nl: Option<&mut Netlink>,
) -> Result<Vnic> {
    let mut v = find(nl, name)?;
    if !v.complete {
        return Err(NetError::WrongKind {
            name: name.into(),
            why: "was never finished (its create was interrupted); delete it".into(),
        });
    }
    let old = v.props.clone();
    v.props = props;
    let alias = describe(&v)?;
    crate::traffic::apply(nl, &v, Some(&old))?;
    nl.set_link(
        v.host.index,
        &LinkChange {
            alias: Some(alias),
            mtu,
            ..LinkChange::default()
        },
    )?;
    if let Some(mtu) = mtu {
        let client_nl = match client_nl {
            Some(c) => Some(c),
            None if v.zone.is_none() && v.client != v.host.name => Some(&mut *nl),
            None => None,
        };
        if let Some(c) = client_nl {
            if let Some(l) = c.link(&v.client)? {
                c.set_link(
                    l.index,
                    &LinkChange {
                        mtu: Some(mtu),
                        ..LinkChange::default()
                    },
                )?;
            }
        }
    }
    find(nl, name)
}

/// Remove what creates killed midway left behind: `ifb` shapers whose
/// vNIC is gone. An ifb is named after its vNIC's host end's ifindex
/// (`lmifbN`), so it is known even before its alias is written. Run by
/// every `dladm` command and zone boot.
pub fn sweep(nl: &mut Netlink) -> Result<()> {
    let links = nl.links()?;
    let hosts: Vec<u32> = list(nl)?.into_iter().map(|v| v.host.index).collect();
    for l in &links {
        if l.group != link::GROUP || l.kind.as_deref() != Some("ifb") {
            continue;
        }
        let of = l
            .name
            .strip_prefix("lmifb")
            .and_then(|n| n.parse::<u32>().ok());
        if of.is_none_or(|i| !hosts.contains(&i)) {
            let _ = nl.del_link(l.index);
        }
    }
    Ok(())
}
