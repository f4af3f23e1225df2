//! DTrace's network translators on Linux: how `pktinfo_t`, `csinfo_t`,
//! `ipinfo_t`, `ifinfo_t`, `ipv4info_t`, `tcpinfo_t`, `tcpsinfo_t`,
//! `tcplsinfo_t`, `udpinfo_t` and `udpsinfo_t` are read from what the
//! kernel's tracepoints give: a `struct sk_buff *` (its headers, its
//! device, its socket) or a `struct sock *` with the record's own fields.
//! Member offsets come from the kernel's BTF, so the same code reads any
//! kernel's layout.
//!
//! The providers ([`super::ip`], [`super::tcp`], [`super::udp`],
//! [`super::vnic`]) say which tracepoint each probe is and which of these
//! it passes as `args[]`; [`target`] builds the probe's target.
//!
//! Where a packet's headers start: on the way out (`net_dev_queue`,
//! `net_dev_xmit`) the IP header is at `skb->head + skb->network_header`;
//! on the way in (`netif_receive_skb`, which fires before the stack resets
//! its header offsets) it is at `skb->data`, just past the Ethernet
//! header. The transport header follows the IPv4 header's `ihl` words, or
//! the fixed 40-byte IPv6 header (extension headers are not walked).

use super::{Attachment, ProbeSource, Stability, StableProbe, StableProvider, StableTarget};
use d_lang::codegen::{ArgSource, FieldOp, Filter, FilterCmp, ProbeTarget, ProgType};
use d_lang::ProbeInfo;

/// A packet arriving on a device that hands it to its own stack.
pub const RECEIVE: (&str, &str) = ("net", "netif_receive_skb");
/// A packet queued to its device.
pub const SEND: (&str, &str) = ("net", "net_dev_queue");

/// The `receive` and `send` probes of a packet provider (`ip`, `tcp`,
/// `udp`), with `args[]` of D types `args`.
pub const fn packet_probes(args: &'static [&'static str]) -> [StableProbe; 2] {
    [
        StableProbe::new("receive", &[RECEIVE], args),
        StableProbe::new("send", &[SEND], args),
    ]
}

/// A network provider: its probes' targets read kernel structures.
pub const fn provider(
    name: &'static str,
    stability: Stability,
    probes: &'static [StableProbe],
) -> StableProvider {
    StableProvider {
        name,
        stability,
        probes,
        target: StableTarget::Other(kernel_target),
    }
}

/// Linux's `IPPROTO_TCP` and `IPPROTO_UDP`.
pub const IPPROTO_TCP: i64 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: i64 = 17;
/// `ECONNREFUSED`.
const ECONNREFUSED: i64 = 111;

/// Kernel member offsets, from BTF.
pub trait Members {
    /// Byte offset of `strct.member`.
    fn off(&self, strct: &str, member: &str) -> Result<i32, String>;
}

impl Members for crate::btf::KernelBtf {
    fn off(&self, strct: &str, member: &str) -> Result<i32, String> {
        self.member(strct, member)
            .map(|(o, _)| o as i32)
            .ok_or_else(|| format!("the kernel's BTF has no {strct}.{member}"))
    }
}

fn b(a: ArgSource) -> Box<ArgSource> {
    Box::new(a)
}

/// `size` bytes at `base + offset`.
fn at(base: &ArgSource, offset: i32, size: u8) -> ArgSource {
    ArgSource::Kernel {
        base: b(base.clone()),
        offset,
        size,
        signed: false,
    }
}

fn op(src: ArgSource, op: FieldOp) -> ArgSource {
    ArgSource::Op { src: b(src), op }
}

fn plus(a: &ArgSource, n: i32) -> ArgSource {
    op(a.clone(), FieldOp::Add(n))
}

fn ctx(offset: u16, size: u8) -> ArgSource {
    ArgSource::CtxField {
        offset,
        size,
        signed: false,
    }
}

/// `cond ? a : b` for a 0/1 condition: `cond * a + (1 - cond) * b` is
/// not expressible with constant multipliers, so the choice is made by
/// the address family the lowering of [`ArgSource::Inet`] already
/// branches on, or by the IP version below.
fn by_version(ver: &ArgSource, v4: ArgSource, v6: ArgSource) -> ArgSource {
    // version 4 → 0, 6 → 1 (other versions are filtered out).
    let is6 = op(op(ver.clone(), FieldOp::Shr(1)), FieldOp::And(1));
    let is4 = op(is6.clone(), FieldOp::Eq(0));
    ArgSource::Sum(b(mul(is4, v4)), b(mul(is6, v6)))
}

/// `flag * v` for a 0/1 flag: its mask (0 or all ones) and'ed with v.
fn mul(flag: ArgSource, v: ArgSource) -> ArgSource {
    ArgSource::Mask {
        mask: b(flag),
        value: b(v),
    }
}

/// A packet as a tracepoint's `skbaddr` gives it.
pub struct Packet {
    /// The `struct sk_buff *`.
    pub skb: ArgSource,
    /// Its IP header.
    pub iph: ArgSource,
    /// The IP version (4 or 6).
    pub ver: ArgSource,
    /// Its transport header.
    pub th: ArgSource,
    /// The IP protocol (IPv4 `protocol`, IPv6 `nexthdr`).
    pub proto: ArgSource,
    /// The device it leaves or arrives on.
    pub dev: ArgSource,
    /// Its socket, if any.
    pub sk: ArgSource,
    /// Its device's network namespace (`struct net *`).
    pub net: ArgSource,
}

/// Which way a packet goes (where its IP header is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Leaving: `net_dev_queue`, `net_dev_xmit`, `tcp_send_reset`'s skb.
    Out,
    /// Arriving: `netif_receive_skb`.
    In,
}

impl Packet {
    /// The packet at record field `skbaddr` (offset `skb_off`).
    pub fn new(m: &dyn Members, skb_off: u16, way: Way) -> Result<Packet, String> {
        let skb = ctx(skb_off, 8);
        let iph = match way {
            Way::Out => ArgSource::Sum(
                b(at(&skb, m.off("sk_buff", "head")?, 8)),
                b(at(&skb, m.off("sk_buff", "network_header")?, 2)),
            ),
            Way::In => at(&skb, m.off("sk_buff", "data")?, 8),
        };
        let ver = op(at(&iph, 0, 1), FieldOp::Shr(4));
        let ihl4 = op(op(at(&iph, 0, 1), FieldOp::And(0xf)), FieldOp::Mul(4));
        let th = ArgSource::Sum(
            b(iph.clone()),
            b(by_version(&ver, ihl4, ArgSource::Const(40))),
        );
        let proto = by_version(&ver, at(&iph, 9, 1), at(&iph, 6, 1));
        let dev = at(&skb, m.off("sk_buff", "dev")?, 8);
        let sk = at(&skb, m.off("sk_buff", "sk")?, 8);
        let net = at(&dev, m.off("net_device", "nd_net")?, 8);
        Ok(Packet {
            skb,
            iph,
            ver,
            th,
            proto,
            dev,
            sk,
            net,
        })
    }

    /// `ipinfo_t`: version, payload length, addresses.
    pub fn ipinfo(&self) -> Vec<(&'static str, ArgSource)> {
        let family = by_version(&self.ver, ArgSource::Const(2), ArgSource::Const(10));
        let addr = |v4: i32, v6: i32| ArgSource::Inet {
            family: b(family.clone()),
            v4: b(plus(&self.iph, v4)),
            v6: b(plus(&self.iph, v6)),
        };
        let v4len = ArgSource::Sum(
            b(op(at(&self.iph, 2, 2), FieldOp::Ntohs)),
            b(op(
                op(op(at(&self.iph, 0, 1), FieldOp::And(0xf)), FieldOp::Mul(4)),
                FieldOp::Mul(u32::MAX),
            )),
        );
        let v6len = op(at(&self.iph, 4, 2), FieldOp::Ntohs);
        vec![
            ("ip_ver", self.ver.clone()),
            ("ip_plength", by_version(&self.ver, v4len, v6len)),
            ("ip_saddr", addr(12, 8)),
            ("ip_daddr", addr(16, 24)),
        ]
    }

    /// `ipv4info_t` (meaningful for IPv4 packets).
    pub fn ipv4info(&self) -> Vec<(&'static str, ArgSource)> {
        let addr = |off: i32| ArgSource::Inet {
            family: b(ArgSource::Const(2)),
            v4: b(plus(&self.iph, off)),
            v6: b(plus(&self.iph, off)),
        };
        vec![
            ("ipv4_ver", self.ver.clone()),
            (
                "ipv4_ihl",
                op(op(at(&self.iph, 0, 1), FieldOp::And(0xf)), FieldOp::Mul(4)),
            ),
            ("ipv4_tos", at(&self.iph, 1, 1)),
            ("ipv4_length", op(at(&self.iph, 2, 2), FieldOp::Ntohs)),
            ("ipv4_ident", op(at(&self.iph, 4, 2), FieldOp::Ntohs)),
            ("ipv4_ttl", at(&self.iph, 8, 1)),
            ("ipv4_protocol", at(&self.iph, 9, 1)),
            ("ipv4_checksum", op(at(&self.iph, 10, 2), FieldOp::Ntohs)),
            ("ipv4_src", at(&self.iph, 12, 4)),
            ("ipv4_dst", at(&self.iph, 16, 4)),
            ("ipv4_saddr", addr(12)),
            ("ipv4_daddr", addr(16)),
            ("ipv4_hdr", self.iph.clone()),
        ]
    }

    /// `ifinfo_t`: the device.
    pub fn ifinfo(
        &self,
        m: &dyn Members,
        local: bool,
    ) -> Result<Vec<(&'static str, ArgSource)>, String> {
        Ok(vec![
            (
                "if_name",
                ArgSource::KernelStr {
                    addr: b(plus(&self.dev, m.off("net_device", "name")?)),
                },
            ),
            ("if_local", ArgSource::Const(u64::from(local))),
            ("if_addr", self.dev.clone()),
        ])
    }

    /// `tcpinfo_t`: the TCP header.
    pub fn tcpinfo(&self) -> Vec<(&'static str, ArgSource)> {
        let th = &self.th;
        vec![
            ("tcp_sport", op(at(th, 0, 2), FieldOp::Ntohs)),
            ("tcp_dport", op(at(th, 2, 2), FieldOp::Ntohs)),
            ("tcp_seq", op(at(th, 4, 4), FieldOp::Ntohl)),
            ("tcp_ack", op(at(th, 8, 4), FieldOp::Ntohl)),
            (
                "tcp_offset",
                op(op(at(th, 12, 1), FieldOp::Shr(4)), FieldOp::Mul(4)),
            ),
            ("tcp_flags", at(th, 13, 1)),
            ("tcp_window", op(at(th, 14, 2), FieldOp::Ntohs)),
            ("tcp_checksum", op(at(th, 16, 2), FieldOp::Ntohs)),
            ("tcp_urgent", op(at(th, 18, 2), FieldOp::Ntohs)),
            ("tcp_hdr", th.clone()),
        ]
    }

    /// `udpinfo_t`: the UDP header.
    pub fn udpinfo(&self) -> Vec<(&'static str, ArgSource)> {
        let th = &self.th;
        vec![
            ("udp_sport", op(at(th, 0, 2), FieldOp::Ntohs)),
            ("udp_dport", op(at(th, 2, 2), FieldOp::Ntohs)),
            ("udp_length", op(at(th, 4, 2), FieldOp::Ntohs)),
            ("udp_checksum", op(at(th, 6, 2), FieldOp::Ntohs)),
            ("udp_hdr", th.clone()),
        ]
    }

    /// The connection's ends from the packet's headers: local and remote
    /// (`way` decides which of source and destination is local).
    fn ends(&self, way: Way) -> (ArgSource, ArgSource, ArgSource, ArgSource) {
        let family = by_version(&self.ver, ArgSource::Const(2), ArgSource::Const(10));
        let addr = |v4: i32, v6: i32| ArgSource::Inet {
            family: b(family.clone()),
            v4: b(plus(&self.iph, v4)),
            v6: b(plus(&self.iph, v6)),
        };
        let sport = op(at(&self.th, 0, 2), FieldOp::Ntohs);
        let dport = op(at(&self.th, 2, 2), FieldOp::Ntohs);
        match way {
            Way::Out => (sport, dport, addr(12, 8), addr(16, 24)),
            Way::In => (dport, sport, addr(16, 24), addr(12, 8)),
        }
    }

    /// `tcpsinfo_t` of a segment: ends from its headers; state and
    /// sequence variables from its socket when it has one (sending).
    pub fn tcpsinfo(
        &self,
        m: &dyn Members,
        way: Way,
    ) -> Result<Vec<(&'static str, ArgSource)>, String> {
        let (lport, rport, laddr, raddr) = self.ends(way);
        let mut v = vec![
            ("tcps_addr", self.sk.clone()),
            ("tcps_lport", lport),
            ("tcps_rport", rport),
            ("tcps_laddr", laddr),
            ("tcps_raddr", raddr),
        ];
        if way == Way::Out {
            v.extend(sock_state(m, &self.sk)?);
        }
        Ok(v)
    }

    /// `udpsinfo_t` of a datagram, from its headers.
    pub fn udpsinfo(&self, way: Way) -> Vec<(&'static str, ArgSource)> {
        let (lport, rport, laddr, raddr) = self.ends(way);
        vec![
            ("udps_addr", self.sk.clone()),
            ("udps_lport", lport),
            ("udps_rport", rport),
            ("udps_laddr", laddr),
            ("udps_raddr", raddr),
        ]
    }

    /// `csinfo_t`: the socket stands for the connection.
    pub fn csinfo(&self) -> Vec<(&'static str, ArgSource)> {
        vec![("cs_addr", self.sk.clone()), ("cs_cid", self.sk.clone())]
    }
}

/// A TCP socket's state and sequence variables (`tcp_sock`).
fn sock_state(m: &dyn Members, sk: &ArgSource) -> Result<Vec<(&'static str, ArgSource)>, String> {
    let tcp = |f: &str| m.off("tcp_sock", f);
    let u32_at = |o: i32| at(sk, o, 4);
    Ok(vec![
        ("tcps_state", at(sk, m.off("sock_common", "skc_state")?, 1)),
        ("tcps_suna", u32_at(tcp("snd_una")?)),
        ("tcps_snxt", u32_at(tcp("snd_nxt")?)),
        ("tcps_rnxt", u32_at(tcp("rcv_nxt")?)),
        ("tcps_swnd", u32_at(tcp("snd_wnd")?)),
        ("tcps_rwnd", u32_at(tcp("rcv_wnd")?)),
        ("tcps_cwnd", u32_at(tcp("snd_cwnd")?)),
        ("tcps_cwnd_ssthresh", u32_at(tcp("snd_ssthresh")?)),
        ("tcps_mss", u32_at(tcp("mss_cache")?)),
    ])
}

/// The record of `sock:inet_sock_set_state`: a socket changing state,
/// with its ends copied in the record.
pub struct StateChange;

impl StateChange {
    const SKADDR: u16 = 8;
    const OLDSTATE: u16 = 16;
    const NEWSTATE: u16 = 20;
    const SPORT: u16 = 24;
    const DPORT: u16 = 26;
    const FAMILY: u16 = 28;
    const PROTOCOL: u16 = 30;
    const SADDR: u16 = 32;
    const DADDR: u16 = 36;
    const SADDR_V6: u16 = 40;
    const DADDR_V6: u16 = 56;

    fn sk() -> ArgSource {
        ctx(Self::SKADDR, 8)
    }

    fn addr(v4: u16, v6: u16) -> ArgSource {
        ArgSource::Inet {
            family: b(ctx(Self::FAMILY, 2)),
            v4: b(ArgSource::CtxAddr { offset: v4 }),
            v6: b(ArgSource::CtxAddr { offset: v6 }),
        }
    }

    /// `tcpsinfo_t` of the socket, its state the new one.
    pub fn tcpsinfo(m: &dyn Members) -> Result<Vec<(&'static str, ArgSource)>, String> {
        let mut v = vec![
            ("tcps_addr", Self::sk()),
            ("tcps_lport", ctx(Self::SPORT, 2)),
            ("tcps_rport", ctx(Self::DPORT, 2)),
            ("tcps_laddr", Self::addr(Self::SADDR, Self::SADDR_V6)),
            ("tcps_raddr", Self::addr(Self::DADDR, Self::DADDR_V6)),
        ];
        let mut rest = sock_state(m, &Self::sk())?;
        rest.retain(|(n, _)| *n != "tcps_state");
        v.push((
            "tcps_state",
            ArgSource::CtxField {
                offset: Self::NEWSTATE,
                size: 4,
                signed: true,
            },
        ));
        v.extend(rest);
        Ok(v)
    }

    /// `tcplsinfo_t`: the previous state.
    pub fn tcplsinfo() -> Vec<(&'static str, ArgSource)> {
        vec![(
            "tcps_state",
            ArgSource::CtxField {
                offset: Self::OLDSTATE,
                size: 4,
                signed: true,
            },
        )]
    }

    /// `ipinfo_t` from the socket's ends (no packet: its length is 0).
    pub fn ipinfo() -> Vec<(&'static str, ArgSource)> {
        vec![
            (
                "ip_ver",
                op(op(ctx(Self::FAMILY, 2), FieldOp::Eq(10)), FieldOp::Mul(2)),
            ),
            ("ip_plength", ArgSource::Const(0)),
            ("ip_saddr", Self::addr(Self::SADDR, Self::SADDR_V6)),
            ("ip_daddr", Self::addr(Self::DADDR, Self::DADDR_V6)),
        ]
    }

    /// `csinfo_t`.
    pub fn csinfo() -> Vec<(&'static str, ArgSource)> {
        vec![("cs_addr", Self::sk()), ("cs_cid", Self::sk())]
    }

    /// The socket's network namespace.
    pub fn net(m: &dyn Members) -> Result<ArgSource, String> {
        Ok(at(&Self::sk(), m.off("sock_common", "skc_net")?, 8))
    }

    /// Filters: TCP, and (if given) the transition `from` → `to`.
    pub fn filters(from: Option<i64>, to: Option<i64>) -> Vec<Filter> {
        let f = |offset: u16, size: u8, value: i64| Filter {
            offset,
            size,
            signed: false,
            cmp: FilterCmp::Eq,
            value,
            via: None,
        };
        let mut v = vec![f(Self::PROTOCOL, 2, IPPROTO_TCP)];
        if let Some(from) = from {
            v.push(f(Self::OLDSTATE, 4, from));
        }
        if let Some(to) = to {
            v.push(f(Self::NEWSTATE, 4, to));
        }
        v
    }

    /// A refused connect: its socket's error is `ECONNREFUSED` as it
    /// closes from SYN_SENT (a timeout or an abort is another error).
    pub fn refused(m: &dyn Members) -> Result<Filter, String> {
        Ok(Filter {
            offset: 0,
            size: 4,
            signed: true,
            cmp: FilterCmp::Eq,
            value: ECONNREFUSED,
            via: Some(b(ArgSource::Kernel {
                base: b(Self::sk()),
                offset: m.off("sock", "sk_err")?,
                size: 4,
                signed: true,
            })),
        })
    }
}

/// A filter `value(src) CMP v`.
pub fn when(src: ArgSource, cmp: FilterCmp, value: i64) -> Filter {
    Filter {
        offset: 0,
        size: 8,
        signed: false,
        cmp,
        value,
        via: Some(b(src)),
    }
}

/// Filters of a packet probe: an IP packet (version 4 or 6) of protocol
/// `proto` (any when `None`), with a socket (`Out`: sent by this host's
/// stack, not forwarded) or arriving on a device that is not a bridge's
/// port (`In`: delivered to this namespace's stack, not switched).
pub fn packet_filters(
    m: &dyn Members,
    p: &Packet,
    way: Way,
    proto: Option<i64>,
) -> Result<Vec<Filter>, String> {
    let mut v = Vec::new();
    match way {
        Way::Out => v.push(when(p.sk.clone(), FilterCmp::Ne, 0)),
        Way::In => v.push(when(
            at(&p.dev, m.off("net_device", "rx_handler")?, 8),
            FilterCmp::Eq,
            0,
        )),
    }
    // 4 | 2 == 6 | 2 == 6, and no other version gives 6.
    v.push(when(op(p.ver.clone(), FieldOp::Or(2)), FilterCmp::Eq, 6));
    if let Some(proto) = proto {
        v.push(when(p.proto.clone(), FilterCmp::Eq, proto));
    }
    Ok(v)
}

/// A translated argument: struct `ty` of the prelude with `members`.
pub fn view(ty: &str, members: Vec<(&'static str, ArgSource)>) -> ArgSource {
    let table = d_lang::prelude::types();
    let Some(d_lang::types::Type::Sou(s)) = table.typedef(ty).map(|t| t.strip().clone()) else {
        return ArgSource::Unavailable(format!("no type {ty}"));
    };
    ArgSource::Translated(
        members
            .into_iter()
            .filter_map(|(name, src)| {
                let off = s.members.iter().find(|x| x.name == name)?.offset as u32;
                Some((off, src))
            })
            .collect(),
    )
}

/// A tracepoint probe's target with translated `args`, `filters`, and
/// its zone named by namespace `net`.
pub fn target(args: Vec<ArgSource>, filters: Vec<Filter>, net: ArgSource) -> ProbeTarget {
    ProbeTarget {
        prog_type: ProgType::Tracepoint,
        args: args.clone(),
        typed_args: Some(args),
        filters,
        syscall_ret: None,
        function_entry: false,
        netns: Some(net),
    }
}

/// The `IFLA_GROUP` of Lumen's links (`net::link::GROUP`; the engine does
/// not depend on `net`).
const LUMEN_GROUP: i64 = 0x4c4d;
/// `net::props::DROP_MARK`.
const DROP_MARK: i64 = 0x4c4d_0000;

/// The peer of a veth (`netdev_priv(dev)->peer`), or a macvlan itself
/// (`netdev_priv(dev)->dev`): both the first word of the private area.
fn peer(m: &dyn Members, dev: &ArgSource, dev_size: u32) -> ArgSource {
    let _ = m;
    // netdev_priv: the private area follows struct net_device, aligned
    // to NETDEV_ALIGN (32).
    let priv_off = dev_size.next_multiple_of(32) as i32;
    at(dev, priv_off, 8)
}

/// The target of probe `provider:::name` of the network providers, with
/// member offsets from `m` and `struct net_device`'s size.
pub fn net_target(
    m: &dyn Members,
    dev_size: u32,
    provider: &str,
    name: &str,
) -> Result<ProbeTarget, String> {
    use FilterCmp::*;
    let none = || ArgSource::Const(0);
    match (provider, name) {
        ("ip", _) | ("udp", _) | ("tcp", "send" | "receive") => {
            let way = if name == "send" { Way::Out } else { Way::In };
            let p = Packet::new(m, 8, way)?;
            let proto = match provider {
                "tcp" => Some(IPPROTO_TCP),
                "udp" => Some(IPPROTO_UDP),
                _ => None,
            };
            let filters = packet_filters(m, &p, way, proto)?;
            let pkt = view("pktinfo_t", vec![]);
            let args = match provider {
                "ip" => vec![
                    pkt,
                    view("csinfo_t", p.csinfo()),
                    view("ipinfo_t", p.ipinfo()),
                    view("ifinfo_t", p.ifinfo(m, way == Way::In)?),
                    view("ipv4info_t", p.ipv4info()),
                    none(),
                ],
                "tcp" => vec![
                    pkt,
                    view("csinfo_t", p.csinfo()),
                    view("ipinfo_t", p.ipinfo()),
                    view("tcpsinfo_t", p.tcpsinfo(m, way)?),
                    view("tcpinfo_t", p.tcpinfo()),
                ],
                _ => vec![
                    pkt,
                    view("csinfo_t", p.csinfo()),
                    view("ipinfo_t", p.ipinfo()),
                    view("udpsinfo_t", p.udpsinfo(way)),
                    view("udpinfo_t", p.udpinfo()),
                ],
            };
            Ok(target(args, filters, p.net))
        }
        ("tcp", "accept-refused") => {
            // tcp_send_reset: skbaddr at 8 (the segment answered), skaddr
            // at 16 (none: no socket took it).
            let p = Packet::new(m, 8, Way::Out)?;
            let th = ArgSource::Sum(
                b(at(&p.skb, m.off("sk_buff", "head")?, 8)),
                b(at(&p.skb, m.off("sk_buff", "transport_header")?, 2)),
            );
            let syn = at(&th, 13, 1);
            let filters = vec![
                Filter {
                    offset: 16,
                    size: 8,
                    signed: false,
                    cmp: Eq,
                    value: 0,
                    via: None,
                },
                when(op(syn, FieldOp::And(0x02)), Ne, 0),
            ];
            // The refused segment came in: its ends reversed are ours.
            let seg = Packet { th, ..p };
            let args = vec![
                view("pktinfo_t", vec![]),
                view("csinfo_t", vec![]),
                view("ipinfo_t", seg.ipinfo()),
                view("tcpsinfo_t", seg.tcpsinfo(m, Way::In)?),
                view("tcpinfo_t", seg.tcpinfo()),
            ];
            Ok(target(args, filters, seg.net))
        }
        ("tcp", _) => {
            // inet_sock_set_state; Linux's TCP states.
            const ESTABLISHED: i64 = 1;
            const SYN_SENT: i64 = 2;
            const SYN_RECV: i64 = 3;
            const CLOSE: i64 = 7;
            let filters = match name {
                "state-change" => StateChange::filters(None, None),
                "connect-request" => StateChange::filters(Some(CLOSE), Some(SYN_SENT)),
                "connect-established" => StateChange::filters(Some(SYN_SENT), Some(ESTABLISHED)),
                "accept-established" => StateChange::filters(Some(SYN_RECV), Some(ESTABLISHED)),
                "connect-refused" => {
                    let mut f = StateChange::filters(Some(SYN_SENT), Some(CLOSE));
                    f.push(StateChange::refused(m)?);
                    f
                }
                other => return Err(format!("tcp:::{other} has no mapping")),
            };
            let ports = vec![
                ("tcp_sport", ctx(StateChange::SPORT, 2)),
                ("tcp_dport", ctx(StateChange::DPORT, 2)),
            ];
            let args = if name == "state-change" {
                vec![
                    none(),
                    view("csinfo_t", StateChange::csinfo()),
                    none(),
                    view("tcpsinfo_t", StateChange::tcpsinfo(m)?),
                    none(),
                    view("tcplsinfo_t", StateChange::tcplsinfo()),
                ]
            } else {
                vec![
                    view("pktinfo_t", vec![]),
                    view("csinfo_t", StateChange::csinfo()),
                    view("ipinfo_t", StateChange::ipinfo()),
                    view("tcpsinfo_t", StateChange::tcpsinfo(m)?),
                    view("tcpinfo_t", ports),
                ]
            };
            Ok(target(args, filters, StateChange::net(m)?))
        }
        ("vnic", _) => {
            let skb = ctx(8, 8);
            let dev = at(&skb, m.off("sk_buff", "dev")?, 8);
            let group = at(&dev, m.off("net_device", "group")?, 4);
            let rx_handler = at(&dev, m.off("net_device", "rx_handler")?, 8);
            let name_of = |d: &ArgSource| -> Result<ArgSource, String> {
                Ok(ArgSource::KernelStr {
                    addr: b(plus(d, m.off("net_device", "name")?)),
                })
            };
            let net_of = |d: &ArgSource| -> Result<ArgSource, String> {
                Ok(at(d, m.off("net_device", "nd_net")?, 8))
            };
            let len = at(&skb, m.off("sk_buff", "len")?, 4);
            let other = peer(m, &dev, dev_size);
            let mut filters = vec![when(group, Eq, LUMEN_GROUP)];
            let (args, net) = match name {
                // The host end, a bridge port, hands a frame to the client.
                "rx" => {
                    filters.push(when(rx_handler, Ne, 0));
                    (vec![name_of(&dev)?, len], net_of(&other)?)
                }
                // The client end sends; not an ifb (named lmifbN).
                "tx" => {
                    filters.push(when(rx_handler, Eq, 0));
                    let lmif = i64::from(u32::from_le_bytes(*b"lmif"));
                    filters.push(when(at(&dev, m.off("net_device", "name")?, 4), Ne, lmif));
                    (vec![name_of(&other)?, len], net_of(&dev)?)
                }
                "drop" => {
                    let mark = at(&skb, m.off("sk_buff", "mark")?, 4);
                    filters.push(when(
                        op(mark.clone(), FieldOp::And(0xffff_0000)),
                        Eq,
                        DROP_MARK,
                    ));
                    let reason = ArgSource::Names {
                        value: b(op(mark, FieldOp::And(0xff))),
                        names: vec![
                            "mac-nospoof".into(),
                            "ip-nospoof".into(),
                            "restricted".into(),
                        ],
                    };
                    (vec![name_of(&dev)?, len, reason], net_of(&other)?)
                }
                other => return Err(format!("vnic:::{other} has no mapping")),
            };
            Ok(target(args, filters, net))
        }
        (p, n) => Err(format!("{p}:::{n} is not a network probe")),
    }
}

/// The target of a network probe, with member offsets from the
/// kernel's BTF (the probes read `sk_buff`s and sockets, not the
/// tracepoint's fields).
pub fn kernel_target(
    probe: &ProbeInfo,
    _: &Attachment,
    _: &dyn ProbeSource,
) -> Result<ProbeTarget, String> {
    let btf = crate::btf::KernelBtf::kernel()
        .ok_or("network probes need the kernel's BTF (/sys/kernel/btf/vmlinux)")?;
    let dev_size = btf
        .struct_size("net_device")
        .ok_or("the kernel's BTF has no struct net_device")?;
    net_target(btf, dev_size, &probe.provider, &probe.name)
}
