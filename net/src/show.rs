//! What `dladm show-*` prints: the columns of each verb, with Crossbow's
//! names and widths, and each row's values, read from the kernel. The
//! command line only picks columns ([`crate::ofmt`]) and prints.

use crate::error::Result;
use crate::link::{self, Owned};
use crate::netlink::{Link, LinkStats, Netlink};
use crate::ofmt::Field;
use crate::props::{format_maxbw, DropReason, VNIC_PROPS};
use crate::record::{Vnic, VnicKind};
use crate::vnic;

const fn f(name: &'static str, width: usize) -> Field {
    Field { name, width }
}

/// `show-vnic`'s columns (ZONE, as SmartOS adds, only with `-o`).
pub const VNIC_FIELDS: &[Field] = &[
    f("LINK", 13),
    f("OVER", 11),
    f("SPEED", 7),
    f("MACADDRESS", 18),
    f("MACADDRTYPE", 18),
    f("VID", 5),
    f("ZONE", 37),
];
/// `show-vnic`'s default columns.
pub const VNIC_DEFAULT: &[&str] = &["LINK", "OVER", "SPEED", "MACADDRESS", "MACADDRTYPE", "VID"];

/// `show-link`'s columns.
pub const LINK_FIELDS: &[Field] = &[
    f("LINK", 12),
    f("CLASS", 10),
    f("MTU", 7),
    f("STATE", 9),
    f("BRIDGE", 11),
    f("OVER", 30),
];
/// `show-link`'s default columns.
pub const LINK_DEFAULT: &[&str] = &["LINK", "CLASS", "MTU", "STATE", "BRIDGE", "OVER"];

/// `show-link -s`'s columns.
pub const LINK_STATS_FIELDS: &[Field] = &[
    f("LINK", 13),
    f("IPACKETS", 11),
    f("RBYTES", 11),
    f("IERRORS", 9),
    f("OPACKETS", 11),
    f("OBYTES", 11),
    f("OERRORS", 9),
];
/// `show-link -s`'s default columns.
pub const LINK_STATS_DEFAULT: &[&str] = &[
    "LINK", "IPACKETS", "RBYTES", "IERRORS", "OPACKETS", "OBYTES", "OERRORS",
];

/// `show-ether`'s columns.
pub const ETHER_FIELDS: &[Field] = &[
    f("LINK", 16),
    f("PTYPE", 9),
    f("STATE", 9),
    f("AUTO", 6),
    f("SPEED-DUPLEX", 32),
    f("PAUSE", 7),
];
/// `show-ether`'s default columns.
pub const ETHER_DEFAULT: &[&str] = &["LINK", "PTYPE", "STATE", "AUTO", "SPEED-DUPLEX", "PAUSE"];

/// `show-linkprop`'s columns.
pub const LINKPROP_FIELDS: &[Field] = &[
    f("LINK", 13),
    f("PROPERTY", 16),
    f("PERM", 5),
    f("VALUE", 15),
    f("DEFAULT", 15),
    f("POSSIBLE", 20),
];
/// `show-linkprop`'s default columns.
pub const LINKPROP_DEFAULT: &[&str] = &["LINK", "PROPERTY", "PERM", "VALUE", "DEFAULT", "POSSIBLE"];

/// `show-etherstub`'s one column.
pub const ETHERSTUB_FIELDS: &[Field] = &[f("LINK", 13)];

/// A link's speed in Mbit/s as sysfs reports it (0 when it has none).
fn sysfs_speed(name: &str) -> u64 {
    std::fs::read_to_string(format!("/sys/class/net/{name}/speed"))
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| *s > 0)
        .map_or(0, |s| s as u64)
}

/// A vNIC's `show-vnic` value of `field`.
pub fn vnic_value(v: &Vnic, field: &str) -> String {
    let unknown = || "?".to_string();
    match field {
        "LINK" => v.name.clone(),
        "OVER" => v.over.clone(),
        // An etherstub has no speed (Crossbow shows 0); a cap is the speed.
        "SPEED" => match v.props.maxbw {
            Some(bw) => format_maxbw(bw),
            None if v.kind == VnicKind::Macvlan => sysfs_speed(&v.over).to_string(),
            None => "0".into(),
        },
        "MACADDRESS" => v.mac.map_or_else(unknown, |m| m.to_string()),
        "MACADDRTYPE" if !v.complete => unknown(),
        "MACADDRTYPE" => v.mac_kind.as_str().into(),
        "VID" if !v.complete => unknown(),
        "VID" => v.vid.to_string(),
        "ZONE" => v.zone.clone().unwrap_or_else(|| "--".into()),
        _ => String::new(),
    }
}

/// One `show-link` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    /// LINK.
    pub name: String,
    /// CLASS: `phys`, `etherstub`, `vnic`, `bridge`, or the kind of link.
    pub class: String,
    /// MTU.
    pub mtu: u32,
    /// STATE: `up`, `down` or `unknown`.
    pub state: &'static str,
    /// BRIDGE: the bridge of a port of a bridge Lumen did not make.
    pub bridge: String,
    /// OVER.
    pub over: String,
    /// Counters, from the datalink's side (for a vNIC, its client's: what
    /// the client received is `ipackets`).
    pub stats: LinkStats,
}

impl LinkRow {
    /// The value of `field` (`show-link` and `show-link -s`).
    pub fn value(&self, field: &str) -> String {
        match field {
            "LINK" => self.name.clone(),
            "CLASS" => self.class.clone(),
            "MTU" => self.mtu.to_string(),
            "STATE" => self.state.into(),
            "BRIDGE" => self.bridge.clone(),
            "OVER" => self.over.clone(),
            "IPACKETS" => self.stats.rx_packets.to_string(),
            "RBYTES" => self.stats.rx_bytes.to_string(),
            "IERRORS" => self.stats.rx_errors.to_string(),
            "OPACKETS" => self.stats.tx_packets.to_string(),
            "OBYTES" => self.stats.tx_bytes.to_string(),
            "OERRORS" => self.stats.tx_errors.to_string(),
            _ => String::new(),
        }
    }
}

fn state(l: &Link) -> &'static str {
    if l.running {
        "up"
    } else if l.up {
        "unknown"
    } else {
        "down"
    }
}

/// A vNIC's counters from its client's side: the host end's, swapped
/// (what the host end sent, the client received).
pub fn client_stats(host: &LinkStats) -> LinkStats {
    LinkStats {
        rx_packets: host.tx_packets,
        rx_bytes: host.tx_bytes,
        rx_errors: host.tx_errors,
        rx_dropped: host.tx_dropped,
        tx_packets: host.rx_packets,
        tx_bytes: host.rx_bytes,
        tx_errors: host.rx_errors,
        tx_dropped: host.rx_dropped,
    }
}

/// Every datalink `show-link` lists: physical links, etherstubs, vNICs
/// (by their own names; their hidden ends and shapers are not links of
/// their own) and other bridges and virtual links of the host.
pub fn links(nl: &mut Netlink) -> Result<Vec<LinkRow>> {
    let all = nl.links()?;
    let vnics = vnic::list(nl)?;
    let name_of = |i: Option<u32>| {
        i.and_then(|i| all.iter().find(|l| l.index == i))
            .map(|l| l.name.clone())
    };
    let mut rows = Vec::new();
    for v in &vnics {
        rows.push(LinkRow {
            name: v.name.clone(),
            class: "vnic".into(),
            mtu: v.host.mtu,
            state: state(&v.host),
            bridge: "--".into(),
            over: v.over.clone(),
            stats: client_stats(&v.host.stats),
        });
    }
    for l in &all {
        if l.name == "lo" {
            continue;
        }
        let owned = link::owned(l);
        let class = match (&owned, l.kind.as_deref()) {
            (Some(Owned::Etherstub), _) => "etherstub".to_string(),
            (Some(Owned::Unfinished), Some("bridge")) => "etherstub".to_string(),
            // Parts of vNICs, listed under the vNIC's name above.
            (Some(_), _) => continue,
            (None, None) => "phys".into(),
            (None, Some(k)) => k.to_string(),
        };
        let bridge = match l.master {
            Some(m) if owned.is_none() => name_of(Some(m)).unwrap_or_else(|| "--".into()),
            _ => "--".into(),
        };
        let over = if l.kind.as_deref() == Some("macvlan") {
            name_of(l.link).unwrap_or_else(|| "--".into())
        } else {
            "--".into()
        };
        rows.push(LinkRow {
            name: l.name.clone(),
            class,
            mtu: l.mtu,
            state: state(l),
            bridge,
            over,
            stats: l.stats,
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// One `show-ether` row (physical links only, as Crossbow's).
pub fn ether_value(l: &Link, field: &str) -> String {
    let speed = sysfs_speed(&l.name);
    let duplex = std::fs::read_to_string(format!("/sys/class/net/{}/duplex", l.name))
        .map(|d| d.trim().chars().next().unwrap_or('u'))
        .unwrap_or('u');
    match field {
        "LINK" => l.name.clone(),
        "PTYPE" => "current".into(),
        "STATE" => state(l).into(),
        "AUTO" => "--".into(),
        "SPEED-DUPLEX" => {
            if speed == 0 {
                "0M".into()
            } else if speed.is_multiple_of(1000) {
                format!("{}G-{duplex}", speed / 1000)
            } else {
                format!("{speed}M-{duplex}")
            }
        }
        "PAUSE" => "--".into(),
        _ => String::new(),
    }
}

/// The physical links.
pub fn ethers(nl: &mut Netlink) -> Result<Vec<Link>> {
    Ok(nl
        .links()?
        .into_iter()
        .filter(|l| l.kind.is_none() && l.name != "lo" && link::owned(l).is_none())
        .collect())
}

/// One `show-linkprop` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropRow {
    pub link: String,
    pub property: String,
    pub perm: &'static str,
    pub value: String,
    pub default: String,
    pub possible: String,
}

impl PropRow {
    /// The value of `field`.
    pub fn value(&self, field: &str) -> String {
        match field {
            "LINK" => self.link.clone(),
            "PROPERTY" => self.property.clone(),
            "PERM" => self.perm.into(),
            "VALUE" => self.value.clone(),
            "DEFAULT" => self.default.clone(),
            "POSSIBLE" => self.possible.clone(),
            _ => String::new(),
        }
    }
}

/// The properties of vNIC `v`, with the classifier's drop counts.
pub fn vnic_props(nl: &mut Netlink, v: &Vnic) -> Result<Vec<PropRow>> {
    let drops = crate::traffic::drops(nl, v)?;
    let dash = || "--".to_string();
    let mut rows = Vec::new();
    for (name, writable) in VNIC_PROPS {
        let (value, default, possible) = match *name {
            "maxbw" => (
                v.props.maxbw.map_or_else(dash, format_maxbw),
                dash(),
                dash(),
            ),
            "protection" => (
                v.props.protection.to_value(),
                dash(),
                "mac-nospoof,ip-nospoof,restricted".into(),
            ),
            "allowed-ips" => (
                if v.props.allowed_ips.is_empty() {
                    dash()
                } else {
                    v.props
                        .allowed_ips
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                },
                dash(),
                dash(),
            ),
            "mtu" => (v.host.mtu.to_string(), "1500".into(), "68-65535".into()),
            "zone" => (v.zone.clone().unwrap_or_else(dash), dash(), dash()),
            other => {
                let r = DropReason::ALL
                    .iter()
                    .find(|r| format!("{}-drops", r.as_str()) == other);
                (
                    r.map_or_else(dash, |r| drops[*r as usize].0.to_string()),
                    "0".into(),
                    dash(),
                )
            }
        };
        rows.push(PropRow {
            link: v.name.clone(),
            property: (*name).into(),
            perm: if *writable { "rw" } else { "r-" },
            value,
            default,
            possible,
        });
    }
    Ok(rows)
}

/// The properties of a link that is not a vNIC: its MTU and speed.
pub fn link_props(l: &Link) -> Vec<PropRow> {
    vec![
        PropRow {
            link: l.name.clone(),
            property: "mtu".into(),
            perm: "r-",
            value: l.mtu.to_string(),
            default: "1500".into(),
            possible: "--".into(),
        },
        PropRow {
            link: l.name.clone(),
            property: "speed".into(),
            perm: "r-",
            value: sysfs_speed(&l.name).to_string(),
            default: "--".into(),
            possible: "--".into(),
        },
    ]
}
