//! A vNIC's link properties, as `dladm set-linkprop -p` takes them and
//! `show-linkprop` prints them: `maxbw`, `protection`, `allowed-ips`,
//! `mtu`, `zone` and the read-only drop counters.

use crate::addr::Cidr;
use crate::error::{NetError, Result};

/// The properties `set-linkprop` changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VnicProps {
    /// `maxbw`, bits per second, both directions.
    pub maxbw: Option<u64>,
    /// `protection`.
    pub protection: Protection,
    /// `allowed-ips` (the sources `ip-nospoof` lets through).
    pub allowed_ips: Vec<Cidr>,
}

/// The anti-spoofing protections of a vNIC (Crossbow's `protection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protection {
    /// `mac-nospoof`: frames must come from the vNIC's own MAC.
    pub mac: bool,
    /// `ip-nospoof`: IPv4/IPv6 sources and ARP senders must be among
    /// `allowed-ips`.
    pub ip: bool,
    /// `restricted`: only IPv4, IPv6 and ARP frames pass.
    pub restricted: bool,
}

impl Protection {
    /// SmartOS's default for a zone's NIC: everything on.
    pub const ALL: Protection = Protection {
        mac: true,
        ip: true,
        restricted: true,
    };

    /// Whether any protection is on.
    pub fn any(&self) -> bool {
        self.mac || self.ip || self.restricted
    }

    /// Parse `mac-nospoof,ip-nospoof,restricted` (or `none`, or empty).
    pub fn parse(field: &str, text: &str) -> Result<Protection> {
        let mut p = Protection::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "mac-nospoof" => p.mac = true,
                "ip-nospoof" => p.ip = true,
                "restricted" => p.restricted = true,
                "none" => {}
                _ => {
                    return Err(NetError::bad(
                        field,
                        word,
                        "is not a protection (mac-nospoof, ip-nospoof, restricted)",
                    ))
                }
            }
        }
        Ok(p)
    }

    /// The list as dladm prints it (`--` when none).
    pub fn to_value(self) -> String {
        let mut w = Vec::new();
        if self.mac {
            w.push("mac-nospoof");
        }
        if self.ip {
            w.push("ip-nospoof");
        }
        if self.restricted {
            w.push("restricted");
        }
        if w.is_empty() {
            "--".into()
        } else {
            w.join(",")
        }
    }
}

/// Why the classifier dropped a frame: an index into its counters, and
/// the mark it leaves on the frame so tracers can tell the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The source MAC (or an ARP sender's hardware address) is not the
    /// vNIC's.
    MacSpoof = 0,
    /// The source IP (or an ARP sender's IP) is not in `allowed-ips`.
    IpSpoof = 1,
    /// Not IPv4, IPv6 or ARP, under `restricted`; or a VLAN tag the
    /// vNIC may not send.
    Restricted = 2,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 3] = [
        DropReason::MacSpoof,
        DropReason::IpSpoof,
        DropReason::Restricted,
    ];

    /// Its name, as `vnic:::drop` and `show-linkprop` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::MacSpoof => "mac-nospoof",
            DropReason::IpSpoof => "ip-nospoof",
            DropReason::Restricted => "restricted",
        }
    }
}

/// `skb->mark` of a frame the classifier drops: this in the high half,
/// the [`DropReason`] in the low byte. The engine's `vnic:::drop` reads it.
pub const DROP_MARK: u32 = 0x4c4d_0000;

/// Parse a bandwidth as Crossbow's `maxbw` takes it: a number with an
/// optional unit `K`, `M` or `G` (bits per second; Mbit/s when bare, as
/// dladm reads `maxbw=100`). Returns bits per second.
pub fn parse_maxbw(field: &str, text: &str) -> Result<u64> {
    let bad = |why: &str| NetError::bad(field, text, why);
    let t = text.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1_000,
                'M' => 1_000_000,
                'G' => 1_000_000_000,
                _ => return Err(bad("has an unknown unit (K, M or G: bits per second)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1_000_000),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| bad("is not a bandwidth (a number and K, M or G, e.g. 10M)"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(bad("must be more than 0 (reset-linkprop removes the cap)"));
    }
    let bits = value * mult as f64;
    // The kernel's shapers count bytes per second in 64 bits; below 1.2
    // Kbit/s a single full-size frame would take longer than ten seconds.
    if bits < 1_200.0 {
        return Err(bad("is below the smallest cap, 1.2K"));
    }
    if bits > 1e12 {
        return Err(bad("is above the largest cap, 1000G"));
    }
    Ok(bits as u64)
}

/// A bandwidth as dladm prints `maxbw`: Mbit/s, with decimals only when
/// needed (`10`, `0.5`, `1000`).
pub fn format_maxbw(bits: u64) -> String {
    if bits.is_multiple_of(1_000_000) {
        (bits / 1_000_000).to_string()
    } else {
        let s = format!("{:.3}", bits as f64 / 1e6);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Parse `allowed-ips`: addresses or prefixes separated by commas.
pub fn parse_allowed_ips(field: &str, text: &str) -> Result<Vec<Cidr>> {
    let mut out = Vec::new();
    for (i, w) in text
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        out.push(Cidr::parse(&format!("{field}[{i}]"), w)?);
    }
    if out.len() > MAX_ALLOWED_IPS {
        return Err(NetError::bad(
            field,
            text,
            format!(
                "lists {} addresses; a vNIC allows at most {MAX_ALLOWED_IPS}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The most `allowed-ips` a vNIC may have: Crossbow's limit.
pub const MAX_ALLOWED_IPS: usize = 32;

/// The properties `show-linkprop` lists for a vNIC, in its order, each
/// with whether it can be set.
pub const VNIC_PROPS: &[(&str, bool)] = &[
    ("maxbw", true),
    ("protection", true),
    ("allowed-ips", true),
    ("mtu", true),
    ("zone", false),
    ("mac-nospoof-drops", false),
    ("ip-nospoof-drops", false),
    ("restricted-drops", false),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxbw_takes_crossbow_units() {
        assert_eq!(parse_maxbw("maxbw", "10M").unwrap(), 10_000_000);
        assert_eq!(parse_maxbw("maxbw", "100").unwrap(), 100_000_000);
        assert_eq!(parse_maxbw("maxbw", "1.5G").unwrap(), 1_500_000_000);
        assert_eq!(parse_maxbw("maxbw", "500k").unwrap(), 500_000);
        assert_eq!(format_maxbw(10_000_000), "10");
        assert_eq!(format_maxbw(500_000), "0.5");
        for bad in ["", "0", "-5M", "10X", "fast", "1K", "nan"] {
            let e = parse_maxbw("maxbw", bad).expect_err(bad).to_string();
            assert!(e.starts_with(&format!("maxbw: {bad:?}")), "{e}");
        }
    }

    #[test]
    fn protection_lists() {
        let p = Protection::parse("protection", "mac-nospoof, ip-nospoof").unwrap();
        assert_eq!(p.to_value(), "mac-nospoof,ip-nospoof");
        assert_eq!(
            Protection::parse("protection", "none").unwrap().to_value(),
            "--"
        );
        let e = Protection::parse("protection", "mac-nospoof,dhcp-nospoof").unwrap_err();
        assert!(
            e.to_string().starts_with("protection: \"dhcp-nospoof\""),
            "{e}"
        );
    }

    #[test]
    fn allowed_ips_name_the_bad_entry() {
        let v = parse_allowed_ips("allowed-ips", "192.0.2.1,2001:db8::/64").unwrap();
        assert_eq!(v.len(), 2);
        let e = parse_allowed_ips("allowed-ips", "192.0.2.1,192.0.2.300").unwrap_err();
        assert!(
            e.to_string().starts_with("allowed-ips[1]: \"192.0.2.300\""),
            "{e}"
        );
    }
}
