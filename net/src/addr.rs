//! IP prefixes (`10.0.0.2/24`, `2001:db8::1/64`) as manifests and
//! `allowed-ips` give them: the address as given (it is the host's own
//! address in `ips[]`) and the prefix length.

use crate::error::{NetError, Result};
use std::fmt;
use std::net::IpAddr;

/// An address with a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The address, host bits kept.
    pub addr: IpAddr,
    /// Prefix length: 0–32 (IPv4) or 0–128 (IPv6).
    pub len: u8,
}

impl Cidr {
    /// Parse `text` given for `field`. Without `/len` the prefix is the
    /// whole address (`/32`, `/128`), as `allowed-ips` takes single
    /// addresses.
    pub fn parse(field: &str, text: &str) -> Result<Cidr> {
        let bad = |why: &str| NetError::bad(field, text, why);
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad("is not an IPv4 or IPv6 address (with an optional /prefix)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max && !l.starts_with('+') => n,
                _ => {
                    return Err(bad(&format!(
                        "has a bad prefix length (0 to {max} for an IPv{} address)",
                        if max == 32 { 4 } else { 6 }
                    )))
                }
            },
        };
        Ok(Cidr { addr, len })
    }

    /// Whether `ip` lies in this prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }

    /// The address bytes, network order (4 or 16).
    pub fn octets(&self) -> Vec<u8> {
        match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_contain() {
        let c = Cidr::parse("ips", "192.0.2.7/24").expect("valid");
        assert_eq!(c.to_string(), "192.0.2.7/24");
        assert!(c.contains("192.0.2.200".parse().unwrap()));
        assert!(!c.contains("192.0.3.1".parse().unwrap()));
        assert_eq!(Cidr::parse("a", "192.0.2.7").unwrap().len, 32);
        let v6 = Cidr::parse("a", "2001:db8::1/64").unwrap();
        assert!(v6.contains("2001:db8::ffff".parse().unwrap()));
        assert!(Cidr::parse("a", "0.0.0.0/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
    }

    #[test]
    fn bad_prefixes_name_the_field() {
        for t in [
            "10.0.0.1/33",
            "10.0.0/24",
            "2001:db8::1/129",
            "x",
            "10.0.0.1/",
            "10.0.0.1/+8",
            "dhcp",
        ] {
            let e = Cidr::parse("$.nics[0].ips[0]", t).expect_err(t).to_string();
            assert!(e.starts_with(&format!("$.nics[0].ips[0]: {t:?}")), "{e}");
        }
    }
}
