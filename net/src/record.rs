//! A vNIC as Lumen finds it in the kernel ([`Vnic`]), and the description
//! its host end carries: how a vNIC is written into that end's alias and
//! read back from it (see [`crate::link`] for why the links are their own
//! records).
//!
//! Apart from [`crate::vnic`], which makes, changes and deletes vNICs,
//! because traffic control ([`crate::traffic`]) and `show` read a vNIC
//! too, and `vnic` calls traffic control: the type they share has to sit
//! below both.

use crate::addr::Cidr;
use crate::error::{NetError, Result};
use crate::link;
use crate::mac::{MacAddr, MacKind};
use crate::netlink::Link;
use crate::props::{Protection, VnicProps};
use std::collections::BTreeMap;

/// What a vNIC is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VnicKind {
    /// A veth pair with its host end on an etherstub.
    Veth,
    /// A macvlan (bridge mode) over a physical link.
    Macvlan,
    /// A VM's tap on an etherstub (made by the zone supervisor).
    Tap,
}

impl VnicKind {
    fn as_str(self) -> &'static str {
        match self {
            VnicKind::Veth => "veth",
            VnicKind::Macvlan => "macvlan",
            VnicKind::Tap => "tap",
        }
    }

    fn parse(s: &str) -> Option<VnicKind> {
        match s {
            "veth" => Some(VnicKind::Veth),
            "macvlan" => Some(VnicKind::Macvlan),
            "tap" => Some(VnicKind::Tap),
            _ => None,
        }
    }
}

/// A vNIC as Lumen finds it in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vnic {
    /// Its name (`dladm`'s LINK).
    pub name: String,
    /// The host end (the name, or `NAME_h` for a global vNIC).
    pub host: Link,
    /// What it is.
    pub kind: VnicKind,
    /// The etherstub or link it is over.
    pub over: String,
    /// The client's MAC.
    pub mac: Option<MacAddr>,
    /// Where the MAC came from.
    pub mac_kind: MacKind,
    /// VLAN id (0: none).
    pub vid: u16,
    /// The zone it belongs to (`None`: the global zone).
    pub zone: Option<String>,
    /// The client end's name (`net0` in a zone).
    pub client: String,
    /// Its properties.
    pub props: VnicProps,
    /// Whether its create finished: an unfinished vNIC (a create killed
    /// before it was described) shows as `?` and can only be deleted.
    pub complete: bool,
}

/// The host end's description.
pub(crate) fn describe(v: &Vnic) -> Result<String> {
    let mut w = BTreeMap::new();
    w.insert("name".into(), v.name.clone());
    w.insert("kind".into(), v.kind.as_str().into());
    w.insert("over".into(), v.over.clone());
    if let Some(mac) = v.mac {
        w.insert("mac".into(), mac.to_string());
    }
    w.insert("mactype".into(), v.mac_kind.as_str().into());
    w.insert("vid".into(), v.vid.to_string());
    w.insert("client".into(), v.client.clone());
    if let Some(z) = &v.zone {
        w.insert("zone".into(), z.clone());
    }
    if let Some(bw) = v.props.maxbw {
        w.insert("maxbw".into(), bw.to_string());
    }
    if v.props.protection.any() {
        w.insert("protection".into(), v.props.protection.to_value());
    }
    if !v.props.allowed_ips.is_empty() {
        let ips: Vec<String> = v.props.allowed_ips.iter().map(Cidr::to_string).collect();
        w.insert("allowed-ips".into(), ips.join(","));
    }
    let alias = link::vnic_alias(&w);
    if alias.len() > link::ALIAS_MAX {
        return Err(NetError::bad(
            "allowed-ips",
            w.get("allowed-ips").cloned().unwrap_or_default(),
            "is too long to record with the vNIC (the kernel keeps 255 bytes of its \
             description); allow fewer or wider prefixes",
        ));
    }
    Ok(alias)
}

/// A vNIC from its host end's description.
pub(crate) fn from_link(host: Link, w: &BTreeMap<String, String>) -> Vnic {
    let get = |k: &str| w.get(k).cloned();
    let props = VnicProps {
        maxbw: get("maxbw").and_then(|s| s.parse().ok()),
        protection: get("protection")
            .and_then(|s| Protection::parse("protection", &s).ok())
            .unwrap_or_default(),
        allowed_ips: get("allowed-ips")
            .map(|s| {
                s.split(',')
                    .filter_map(|c| Cidr::parse("allowed-ips", c).ok())
                    .collect()
            })
            .unwrap_or_default(),
    };
    Vnic {
        name: get("name").unwrap_or_else(|| host.name.clone()),
        kind: get("kind")
            .and_then(|k| VnicKind::parse(&k))
            .unwrap_or(VnicKind::Veth),
        over: get("over").unwrap_or_default(),
        mac: get("mac").and_then(|m| MacAddr::parse("mac", &m).ok()),
        mac_kind: get("mactype")
            .and_then(|k| MacKind::parse(&k))
            .unwrap_or(MacKind::Random),
        vid: get("vid").and_then(|v| v.parse().ok()).unwrap_or(0),
        zone: get("zone"),
        client: get("client").unwrap_or_default(),
        props,
        complete: true,
        host,
    }
}

/// A link of Lumen's group whose create never finished, as a vNIC that
/// can only be shown and deleted.
pub(crate) fn unfinished(host: Link, over: String) -> Vnic {
    Vnic {
        name: host.name.clone(),
        kind: match host.kind.as_deref() {
            Some("macvlan") => VnicKind::Macvlan,
            Some("tun") => VnicKind::Tap,
            _ => VnicKind::Veth,
        },
        over,
        mac: host.mac,
        mac_kind: MacKind::Random,
        vid: 0,
        zone: None,
        client: String::new(),
        props: VnicProps::default(),
        complete: false,
        host,
    }
}
