//! All of Lumen's netlink talk: one synchronous rtnetlink socket, the
//! requests `net` makes over it (links, addresses, routes, qdiscs, tc
//! filters), and the few kernel messages `netlink-packet-route` lacks
//! (the `tbf` qdisc's options), built on that crate's types.
//!
//! Synchronous on purpose: the zone supervisor that sets up a zone's NICs
//! is a single-threaded process that forks and clones, so it must not run
//! an async runtime's threads. A socket belongs to the network namespace
//! it was opened in ([`Netlink::open_in`] opens one in a zone's).

use crate::addr::Cidr;
use crate::error::{Errno, NetError, Result};
use crate::mac::MacAddr;
use netlink_packet_core::{
    DefaultNla, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    BridgeStpState, InfoBridge, InfoData, InfoKind, InfoMacVlan, InfoVeth, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode, State,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// An open rtnetlink socket.
pub struct Netlink {
    sock: Socket,
    seq: u32,
}

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
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Netlink> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(|e| sys("socket(NETLINK_ROUTE)", e))?;
        sock.bind_auto()
            .map_err(|e| sys("bind(NETLINK_ROUTE)", e))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(|e| sys("connect(NETLINK_ROUTE)", e))?;
        // Extended acks: the kernel's own words for what it refused.
        let _ = sock.set_ext_ack(true);
        Ok(Netlink { sock, seq: 0 })
    }

    /// A socket in network namespace `netns` (a zone's): the calling
    /// thread enters it, opens the socket and comes back; the socket stays
    /// bound to `netns`.
    pub fn open_in(netns: BorrowedFd<'_>) -> Result<Netlink> {
        let home = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| sys("open /proc/thread-self/ns/net", e))?;
        setns(netns.as_raw_fd(), "entering the zone's network namespace")?;
        let opened = Netlink::open();
        // Coming back must not fail silently: the thread would go on in
        // the zone's namespace.
        if let Err(e) = setns(
            home.as_raw_fd(),
            "returning to the host's network namespace",
        ) {
            panic!("{e}");
        }
        opened
    }

    /// Send `msg` with `flags` and collect the answers: the messages of a
    /// dump, or nothing for an acknowledged change. `op` says what was
    /// asked, for errors.
    fn exchange(
        &mut self,
        op: &dyn Fn() -> String,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(|e| NetError::Netlink {
            op: op(),
            errno: Errno(e.raw_os_error().unwrap_or(0)),
        })?;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut out = Vec::new();
        let mut rx = vec![0u8; 1 << 16];
        loop {
            let n = self
                .sock
                .recv(&mut &mut rx[..], 0)
                .map_err(|e| NetError::Netlink {
                    op: op(),
                    errno: Errno(e.raw_os_error().unwrap_or(0)),
                })?;
            let mut at = 0;
            while at < n {
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rx[at..n])
                    .map_err(|e| NetError::Decode {
                        op: op(),
                        why: e.to_string(),
                    })?;
                let len = parsed.header.length as usize;
                if len == 0 {
                    return Err(NetError::Decode {
                        op: op(),
                        why: "a message of length 0".into(),
                    });
                }
                at += (len + 3) & !3;
                if parsed.header.sequence_number != self.seq {
                    continue;
                }
                match parsed.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(out),
                        Some(code) => {
                            return Err(NetError::Netlink {
                                op: op(),
                                errno: Errno(-code.get()),
                            })
                        }
                    },
                    NetlinkPayload::InnerMessage(m) => {
                        out.push(m);
                        if !dump {
                            // An echo of a change; its ack follows.
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn change(
        &mut self,
        op: &dyn Fn() -> String,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<()> {
        self.exchange(op, msg, NLM_F_ACK | flags).map(|_| ())
    }

    // ---- links ----

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

    // ---- addresses and routes ----

    /// Give link `index` address `cidr`.
    pub fn add_address(&mut self, index: u32, cidr: &Cidr) -> Result<()> {
        let mut m = AddressMessage::default();
        m.header.family = family(cidr.addr);
        m.header.prefix_len = cidr.len;
        m.header.index = index;
        m.attributes.push(AddressAttribute::Local(cidr.addr));
        m.attributes.push(AddressAttribute::Address(cidr.addr));
        self.change(
            &|| format!("adding address {cidr} to link {index}"),
            RouteNetlinkMessage::NewAddress(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    /// The addresses of link `index` (every link's when 0).
    pub fn addresses(&mut self, index: u32) -> Result<Vec<(u32, Cidr)>> {
        let msgs = self.exchange(
            &|| "listing addresses".into(),
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            NLM_F_DUMP,
        )?;
        let mut out = Vec::new();
        for m in msgs {
            let RouteNetlinkMessage::NewAddress(a) = m else {
                continue;
            };
            if index != 0 && a.header.index != index {
                continue;
            }
            let addr = a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = addr.or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            });
            if let Some(addr) = addr {
                out.push((
                    a.header.index,
                    Cidr {
                        addr,
                        len: a.header.prefix_len,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Add a route to `dst` (the default route when `None`) through
    /// `gateway`, or directly on link `index` when there is no gateway.
    pub fn add_route(
        &mut self,
        dst: Option<&Cidr>,
        gateway: Option<IpAddr>,
        index: Option<u32>,
    ) -> Result<()> {
        let any = dst.map(|c| c.addr).or(gateway);
        let Some(any) = any else {
            return Err(NetError::bad(
                "route",
                "",
                "has neither a destination nor a gateway",
            ));
        };
        let mut m = RouteMessage::default();
        m.header.address_family = family(any);
        m.header.table = RouteHeader::RT_TABLE_MAIN;
        m.header.protocol = RouteProtocol::Static;
        m.header.kind = RouteType::Unicast;
        m.header.scope = if gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        if let Some(d) = dst {
            m.header.destination_prefix_length = d.len;
            m.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(d.addr)));
        }
        if let Some(g) = gateway {
            m.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(g)));
        }
        if let Some(i) = index {
            m.attributes.push(RouteAttribute::Oif(i));
        }
        let what = match dst {
            Some(d) => d.to_string(),
            None => "default".into(),
        };
        self.change(
            &|| format!("adding route {what}"),
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_CREATE | NLM_F_EXCL,
        )
    }

    // ---- traffic control ----

    fn tc_message(index: u32, parent: TcHandle, handle: TcHandle) -> TcMessage {
        let mut m = TcMessage::default();
        m.header.index = index as i32;
        m.header.parent = parent;
        m.header.handle = handle;
        m
    }

    /// Create or replace the qdisc at `parent` of link `index`.
    pub fn qdisc_replace(
        &mut self,
        index: u32,
        parent: TcHandle,
        handle: TcHandle,
        kind: &str,
        options: Vec<TcOption>,
    ) -> Result<()> {
        let mut m = Self::tc_message(index, parent, handle);
        m.attributes.push(TcAttribute::Kind(kind.into()));
        if !options.is_empty() {
            m.attributes.push(TcAttribute::Options(options));
        }
        self.change(
            &|| format!("setting qdisc {kind} on link {index}"),
            RouteNetlinkMessage::NewQueueDiscipline(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
    }

    /// Remove the qdisc at `parent` of link `index`; no error if there
    /// was none to remove.
    pub fn qdisc_del(&mut self, index: u32, parent: TcHandle) -> Result<()> {
        let m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        match self.change(
            &|| format!("removing a qdisc of link {index}"),
            RouteNetlinkMessage::DelQueueDiscipline(m),
            0,
        ) {
            Err(NetError::Netlink { errno, .. })
                if errno.0 == libc::ENOENT || errno.0 == libc::EINVAL =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// The qdiscs of link `index`: (parent, kind).
    pub fn qdiscs(&mut self, index: u32) -> Result<Vec<(TcHandle, String)>> {
        let m = Self::tc_message(index, TcHandle::UNSPEC, TcHandle::UNSPEC);
        let msgs = self.exchange(
            &|| format!("listing qdiscs of link {index}"),
            RouteNetlinkMessage::GetQueueDiscipline(m),
            NLM_F_DUMP,
        )?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewQueueDiscipline(q) if q.header.index == index as i32 => {
                    let kind = q.attributes.iter().find_map(|a| match a {
                        TcAttribute::Kind(k) => Some(k.clone()),
                        _ => None,
                    })?;
                    Some((q.header.parent, kind))
                }
                _ => None,
            })
            .collect())
    }

    /// Create or replace filter `prio` of kind `kind` at `parent` of link
    /// `index`, for every protocol.
    pub fn filter_replace(
        &mut self,
        index: u32,
        parent: TcHandle,
        prio: u16,
        kind: &str,
        options: Vec<TcOption>,
    ) -> Result<()> {
        // tcm_info: priority in the high half, protocol (ETH_P_ALL,
        // network order) in the low half.
        let mut m = Self::tc_message(index, parent, TcHandle { major: 0, minor: 1 });
        m.header.info = (u32::from(prio) << 16) | u32::from(0x0003u16.to_be());
        m.attributes.push(TcAttribute::Kind(kind.into()));
        m.attributes.push(TcAttribute::Options(options));
        self.change(
            &|| format!("setting a {kind} filter on link {index}"),
            RouteNetlinkMessage::NewTrafficFilter(m),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
    }

    /// Remove every filter of priority `prio` at `parent` of link
    /// `index`; no error if there was none.
    pub fn filter_del(&mut self, index: u32, parent: TcHandle, prio: u16) -> Result<()> {
        let mut m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        m.header.info = u32::from(prio) << 16;
        match self.change(
            &|| format!("removing a filter of link {index}"),
            RouteNetlinkMessage::DelTrafficFilter(m),
            0,
        ) {
            Err(NetError::Netlink { errno, .. })
                if errno.0 == libc::ENOENT || errno.0 == libc::EINVAL =>
            {
                Ok(())
            }
            r => r,
        }
    }

    /// The filters at `parent` of link `index`, as the kernel lists them.
    pub fn filters(&mut self, index: u32, parent: TcHandle) -> Result<Vec<TcMessage>> {
        let m = Self::tc_message(index, parent, TcHandle::UNSPEC);
        let msgs = match self.exchange(
            &|| format!("listing filters of link {index}"),
            RouteNetlinkMessage::GetTrafficFilter(m),
            NLM_F_DUMP,
        ) {
            Ok(m) => m,
            // No clsact qdisc, so no filters.
            Err(NetError::Netlink { errno, .. }) if errno.0 == libc::EINVAL => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewTrafficFilter(f) => Some(f),
                _ => None,
            })
            .collect())
    }
}

/// The `tbf` qdisc's options (`TCA_TBF_PARMS` and `TCA_TBF_BURST`), which
/// `netlink-packet-route` does not have: a token bucket of `burst` bytes
/// filling at `rate_bytes` a second, holding at most `limit` bytes queued.
pub fn tbf_options(rate_bytes: u64, burst: u32, limit: u32) -> Vec<TcOption> {
    // struct tc_ratespec: cell_log u8, linklayer u8, overhead u16,
    // cell_align i16, mpu u16, rate u32.
    let ratespec = |rate: u32| -> [u8; 12] {
        let mut r = [0u8; 12];
        r[1] = 1; // TC_LINKLAYER_ETHERNET: no rate table needed.
        r[8..12].copy_from_slice(&rate.to_ne_bytes());
        r
    };
    // struct tc_tbf_qopt: rate, peakrate, limit, buffer (in psched ticks
    // of 64 ns), mtu. The buffer is overridden by TCA_TBF_BURST below, but
    // must be sane for kernels that read it first.
    let rate32 = u32::try_from(rate_bytes).unwrap_or(u32::MAX);
    let buffer_ns = (u64::from(burst) * 1_000_000_000) / rate_bytes.max(1);
    let buffer_ticks = u32::try_from(buffer_ns >> 6).unwrap_or(u32::MAX);
    let mut parms = Vec::with_capacity(36);
    parms.extend_from_slice(&ratespec(rate32));
    parms.extend_from_slice(&[0u8; 12]);
    parms.extend_from_slice(&limit.to_ne_bytes());
    parms.extend_from_slice(&buffer_ticks.to_ne_bytes());
    parms.extend_from_slice(&0u32.to_ne_bytes());
    const TCA_TBF_PARMS: u16 = 1;
    const TCA_TBF_RATE64: u16 = 4;
    const TCA_TBF_BURST: u16 = 6;
    let mut out = vec![TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, parms))];
    if rate_bytes > u64::from(u32::MAX) {
        out.push(TcOption::Other(DefaultNla::new(
            TCA_TBF_RATE64,
            rate_bytes.to_ne_bytes().to_vec(),
        )));
    }
    out.push(TcOption::Other(DefaultNla::new(
        TCA_TBF_BURST,
        burst.to_ne_bytes().to_vec(),
    )));
    out
}

fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn sys(call: &str, e: std::io::Error) -> NetError {
    NetError::Sys {
        call: call.into(),
        errno: Errno(e.raw_os_error().unwrap_or(0)),
    }
}

fn setns(fd: RawFd, what: &str) -> Result<()> {
    // SAFETY: setns on a descriptor we hold; it changes only this thread.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
        return Err(NetError::last_os(format!("setns: {what}")));
    }
    Ok(())
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
