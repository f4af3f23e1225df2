//! Addresses and routes: what a zone's NIC is given, inside the zone,
//! once it is up.
//!
//! Apart from links and traffic control because these are the requests
//! that speak IP rather than Ethernet: they configure a vNIC's client end
//! for the zone, where the rest of the crate configures links and their
//! host ends.

use super::Netlink;
use crate::addr::Cidr;
use crate::error::{NetError, Result};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::IpAddr;

impl Netlink {
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
}

fn family(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}
