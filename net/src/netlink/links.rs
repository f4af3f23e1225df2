//! Links: what the kernel says of one ([`Link`]), and the requests that
//! list, make, change, move and remove them (bridges, ifbs, veth pairs,
//! macvlans).
//!
//! Apart from the socket (`netlink`) so that the exchange reads on its
//! own, and from addresses, routes and traffic control because a link's
//! requests are most of what `net` asks and have their own types.

use super::Netlink;
use crate::error::{NetError, Result};
use crate::mac::MacAddr;
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVlan, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode, State,
};
use netlink_packet_route::RouteNetlinkMessage;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A link as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    /// Its ifindex.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// `IFLA_INFO_KIND` (`veth`, `bridge`, `macvlan`, `tun`, `ifb`…);
    /// `None` for physical NICs and loopback.
    pub kind: Option<String>,
    /// Its MAC.
    pub mac: Option<MacAddr>,
    /// Its MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Operationally up (`IF_OPER_UP`, or carrier where the driver does
    /// not report an operational state).
    pub running: bool,
    /// The bridge it is a port of.
    pub master: Option<u32>,
    /// `IFLA_GROUP`.
    pub group: u32,
    /// `IFLA_IFALIAS`.
    pub alias: Option<String>,
    /// Counters.
    pub stats: LinkStats,
    /// `IFLA_LINK`: a veth's peer, a macvlan's lower link.
    pub link: Option<u32>,
    /// `IFLA_LINK_NETNSID`: the namespace (as this one numbers it) that
    /// [`Link::link`] lives in, when not this one.
    pub link_netnsid: Option<i32>,
}

/// A link's counters (`IFLA_STATS64`), as the link itself counts them:
/// `rx` is what it received, `tx` what it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Where a new link (or a veth's peer) is made.
#[derive(Debug, Clone, Copy)]
pub enum Netns<'a> {
    /// The socket's own namespace.
    Here,
    /// The network namespace of process `pid`.
    Pid(u32),
    /// A namespace by open file (`/proc/PID/ns/net`).
    Fd(BorrowedFd<'a>),
}

/// A veth pair to make.
#[derive(Debug, Clone)]
pub struct VethSpec<'a> {
    /// The end made here.
    pub name: String,
    /// Its MAC (the kernel picks one when `None`).
    pub mac: Option<MacAddr>,
    /// The bridge it joins as it is made.
    pub master: Option<u32>,
    /// `IFLA_GROUP` of both ends: how Lumen knows its links from
    /// others' even before anything else was set.
    pub group: u32,
    /// The other end's name, in its namespace.
    pub peer_name: String,
    /// The other end's MAC.
    pub peer_mac: Option<MacAddr>,
    /// The other end's namespace.
    pub peer_netns: Netns<'a>,
}

/// Changes to an existing link (each `None` leaves that alone).
#[derive(Debug, Clone, Default)]
pub struct LinkChange {
    pub up: Option<bool>,
    pub alias: Option<String>,
    /// The bridge to join (`Some(0)` leaves its bridge).
    pub master: Option<u32>,
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr>,
    pub name: Option<String>,
    /// `IFLA_GROUP` (for links made by ioctl, which netlink did not create).
    pub group: Option<u32>,
}

fn link_header(index: u32) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    m
}

fn netns_attr(ns: Netns<'_>) -> Option<LinkAttribute> {
    match ns {
        Netns::Here => None,
        Netns::Pid(p) => Some(LinkAttribute::NetNsPid(p)),
        Netns::Fd(fd) => Some(LinkAttribute::NetNsFd(fd.as_raw_fd())),
    }
}

impl Netlink {
    /// Every link of the namespace.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let msgs = self.exchange(
            &|| "listing links".into(),
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(parse_link(&l)),
                _ => None,
            })
            .collect())
    }

    /// The link named `name`, if there is one.
    pub fn link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        match self.exchange(
            &|| format!("looking up link {name}"),
            RouteNetlinkMessage::GetLink(m),
            NLM_F_ACK,
        ) {
            Ok(msgs) => Ok(msgs.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(parse_link(&l)),
                _ => None,
            })),
            Err(NetError::Netlink { errno, .. }) if errno.0 == libc::ENODEV => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The link with ifindex `index`, if there is one.
    pub fn link_by_index(&mut self, index: u32) -> Result<Option<Link>> {
        match self.exchange(
            &|| format!("looking up link {index}"),
            RouteNetlinkMessage::GetLink(link_header(index)),
            NLM_F_ACK,
        ) {
            Ok(msgs) => Ok(msgs.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(parse_link(&l)),
                _ => None,
            })),
            Err(NetError::Netlink { errno, .. }) if errno.0 == libc::ENODEV => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn new_link(&mut self, what: &str, name: &str, m: LinkMessage) -> Result<()> {
        self.change(
            &|| format!("creating {what} {name}"),
            RouteNetlinkMessage::NewLink(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map_err(|e| match e {
            NetError::Netlink { errno, .. } if errno.0 == libc::EEXIST => NetError::Exists {
                what: "link",
                name: name.into(),
            },
            e => e,
        })
    }

    /// Make a Linux bridge (an etherstub) in group `group`.
    pub fn create_bridge(&mut self, name: &str, group: u32) -> Result<()> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Group(group));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Bridge),
            // No spanning tree and no forwarding delay: an etherstub is a
            // switch inside one host, with no loops to break, and ports
            // that forward as soon as they join.
            LinkInfo::Data(InfoData::Bridge(vec![
                InfoBridge::StpState(BridgeStpState::Disabled),
                InfoBridge::ForwardDelay(0),
            ])),
        ]));
        self.new_link("bridge", name, m)
    }

    /// Make an `ifb` device (where a vNIC's incoming traffic is shaped).
    pub fn create_ifb(&mut self, name: &str, group: u32) -> Result<()> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Group(group));
        m.attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Ifb)]));
        self.new_link("ifb", name, m)
    }

    /// Make a veth pair in one request: both ends appear together, the
    /// peer already in its namespace, or neither does.
    pub fn create_veth(&mut self, spec: &VethSpec<'_>) -> Result<()> {
        let mut peer = LinkMessage::default();
        peer.attributes
            .push(LinkAttribute::IfName(spec.peer_name.clone()));
        peer.attributes.push(LinkAttribute::Group(spec.group));
        if let Some(mac) = spec.peer_mac {
            peer.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(ns) = netns_attr(spec.peer_netns) {
            peer.attributes.push(ns);
        }
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(spec.name.clone()));
        m.attributes.push(LinkAttribute::Group(spec.group));
        if let Some(mac) = spec.mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(master) = spec.master {
            m.attributes.push(LinkAttribute::Controller(master));
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.new_link("veth", &spec.name, m)
    }

    /// Make a macvlan (bridge mode) over `lower`, in `netns`.
    pub fn create_macvlan(
        &mut self,
        name: &str,
        lower: u32,
        mac: Option<MacAddr>,
        group: u32,
        netns: Netns<'_>,
    ) -> Result<()> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Link(lower));
        m.attributes.push(LinkAttribute::Group(group));
        if let Some(mac) = mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(ns) = netns_attr(netns) {
            m.attributes.push(ns);
        }
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Bridge,
            )])),
        ]));
        self.new_link("macvlan", name, m)
    }

    /// Change link `index`.
    pub fn set_link(&mut self, index: u32, c: &LinkChange) -> Result<()> {
        let mut m = link_header(index);
        if let Some(up) = c.up {
            if up {
                m.header.flags = LinkFlags::Up;
            }
            m.header.change_mask = LinkFlags::Up;
        }
        if let Some(a) = &c.alias {
            m.attributes.push(LinkAttribute::IfAlias(a.clone()));
        }
        if let Some(master) = c.master {
            m.attributes.push(LinkAttribute::Controller(master));
        }
        if let Some(mtu) = c.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(mac) = c.mac {
            m.attributes.push(LinkAttribute::Address(mac.0.to_vec()));
        }
        if let Some(n) = &c.name {
            m.attributes.push(LinkAttribute::IfName(n.clone()));
        }
        if let Some(g) = c.group {
            m.attributes.push(LinkAttribute::Group(g));
        }
        self.change(
            &|| format!("changing link {index}"),
            RouteNetlinkMessage::SetLink(m),
            0,
        )
    }

    /// Move link `index` to `netns`, renamed `name` there.
    pub fn move_link(&mut self, index: u32, netns: Netns<'_>, name: &str) -> Result<()> {
        let mut m = link_header(index);
        m.attributes.extend(netns_attr(netns));
        m.attributes.push(LinkAttribute::IfName(name.into()));
        self.change(
            &|| format!("moving link {index} into another namespace as {name}"),
            RouteNetlinkMessage::SetLink(m),
            0,
        )
    }

    /// Remove link `index` (a veth takes its peer with it).
    pub fn del_link(&mut self, index: u32) -> Result<()> {
        self.change(
            &|| format!("removing link {index}"),
            RouteNetlinkMessage::DelLink(link_header(index)),
            0,
        )
    }
}

fn parse_link(m: &LinkMessage) -> Link {
    let mut l = Link {
        index: m.header.index,
        up: m.header.flags.contains(LinkFlags::Up),
        ..Link::default()
    };
    let mut oper = None;
    let lower_up = m.header.flags.contains(LinkFlags::LowerUp);
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => l.name = n.clone(),
            LinkAttribute::Address(b) => l.mac = MacAddr::from_slice(b),
            LinkAttribute::Mtu(v) => l.mtu = *v,
            LinkAttribute::Controller(v) => l.master = Some(*v),
            LinkAttribute::Group(g) => l.group = *g,
            LinkAttribute::IfAlias(s) => l.alias = Some(s.clone()),
            LinkAttribute::Link(v) => l.link = Some(*v),
            LinkAttribute::LinkNetNsId(v) => l.link_netnsid = Some(*v),
            LinkAttribute::OperState(s) => oper = Some(*s),
            LinkAttribute::Stats64(s) => {
                l.stats = LinkStats {
                    rx_packets: s.rx_packets,
                    rx_bytes: s.rx_bytes,
                    rx_errors: s.rx_errors,
                    rx_dropped: s.rx_dropped,
                    tx_packets: s.tx_packets,
                    tx_bytes: s.tx_bytes,
                    tx_errors: s.tx_errors,
                    tx_dropped: s.tx_dropped,
                }
            }
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        l.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    l.running = match oper {
        Some(State::Up) => true,
        Some(State::Unknown) | None => l.up && lower_up,
        _ => false,
    };
    l
}
