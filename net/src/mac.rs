//! MAC addresses as Crossbow writes them (`2:8:20:c4:3:a2`: lowercase, no
//! leading zeros) and reads them (one or two hex digits per octet), and
//! the kinds of MAC a vNIC can have (`MACADDRTYPE`).

use crate::error::{NetError, Result};
use std::fmt;

/// A unicast Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

/// The prefix of MACs Lumen makes up: Crossbow's own (`2:8:20`, Sun's OUI
/// with the locally administered bit), as `dladm create-vnic -m random`
/// uses.
pub const RANDOM_PREFIX: [u8; 3] = [0x02, 0x08, 0x20];

impl MacAddr {
    /// Parse `text` as a MAC given for `field`: six octets of one or two
    /// hex digits separated by `:`, unicast and not all zero.
    pub fn parse(field: &str, text: &str) -> Result<MacAddr> {
        let bad = |why: &str| NetError::bad(field, text, why);
        let mut out = [0u8; 6];
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() != 6 {
            return Err(bad(
                "is not a MAC address (six octets of hex digits separated by ':')",
            ));
        }
        for (o, p) in out.iter_mut().zip(&parts) {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(
                    "is not a MAC address (six octets of hex digits separated by ':')",
                ));
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| bad("is not a MAC address"))?;
        }
        if out[0] & 1 != 0 {
            return Err(bad("is a multicast address; a NIC needs a unicast one"));
        }
        if out == [0; 6] {
            return Err(bad("is the all-zero address"));
        }
        Ok(MacAddr(out))
    }

    /// A MAC from raw bytes (as the kernel gives them), if there are six.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        Some(MacAddr(b.try_into().ok()?))
    }

    /// A random MAC under [`RANDOM_PREFIX`].
    pub fn random() -> MacAddr {
        let mut tail = [0u8; 3];
        // SAFETY: getrandom writes at most `tail.len()` bytes into `tail`.
        let n = unsafe { libc::getrandom(tail.as_mut_ptr().cast(), tail.len(), 0) };
        if n != tail.len() as isize {
            // No entropy source: the clock and pid still differ between calls.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                ^ u64::from(std::process::id()) << 20;
            tail.copy_from_slice(&t.to_le_bytes()[..3]);
        }
        MacAddr::with_prefix(tail)
    }

    /// A MAC under [`RANDOM_PREFIX`] that depends only on `seed` (a zone's
    /// UUID and NIC index): the same on every boot, as a MAC vmadm picks
    /// once at create.
    pub fn derived(seed: &str) -> MacAddr {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let b = h.to_le_bytes();
        MacAddr::with_prefix([b[0] ^ b[3], b[1] ^ b[4], b[2] ^ b[5]])
    }

    fn with_prefix(tail: [u8; 3]) -> MacAddr {
        let p = RANDOM_PREFIX;
        MacAddr([p[0], p[1], p[2], tail[0], tail[1], tail[2]])
    }

    /// The usual `02:08:20:0c:03:a2` form (ip(8), manifests).
    pub fn padded(&self) -> String {
        let b = self.0;
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Crossbow's form: `2:8:20:c:3:a2`.
impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Where a vNIC's MAC came from: Crossbow's `MACADDRTYPE` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacKind {
    /// Given by the user (`-m 2:8:20:…`).
    Fixed,
    /// Made up (`-m random`, the default).
    Random,
    /// The underlying link's own address (`-m factory`, macvlan only
    /// shares it in spirit: Linux gives each macvlan its own).
    Factory,
}

impl MacKind {
    /// The word dladm prints.
    pub fn as_str(self) -> &'static str {
        match self {
            MacKind::Fixed => "fixed",
            MacKind::Random => "random",
            MacKind::Factory => "factory",
        }
    }

    /// The word back.
    pub fn parse(s: &str) -> Option<MacKind> {
        match s {
            "fixed" => Some(MacKind::Fixed),
            "random" => Some(MacKind::Random),
            "factory" => Some(MacKind::Factory),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossbow_forms_both_ways() {
        let m = MacAddr::parse("-m", "2:8:20:c:3:a2").expect("valid");
        assert_eq!(m.0, [2, 8, 0x20, 0xc, 3, 0xa2]);
        assert_eq!(m.to_string(), "2:8:20:c:3:a2");
        assert_eq!(m.padded(), "02:08:20:0c:03:a2");
        assert_eq!(MacAddr::parse("-m", &m.padded()).expect("valid"), m);
    }

    #[test]
    fn bad_macs_name_the_field() {
        for (text, why) in [
            ("2:8:20:c:3", "six octets"),
            ("2:8:20:c:3:a2:1", "six octets"),
            ("2:8:20:c:3:zz", "six octets"),
            ("2:8:20:c:3:123", "six octets"),
            ("1:0:5e:0:0:1", "multicast"),
            ("0:0:0:0:0:0", "all-zero"),
            ("", "six octets"),
        ] {
            let e = MacAddr::parse("$.nics[0].mac", text).expect_err(text);
            let s = e.to_string();
            assert!(s.starts_with(&format!("$.nics[0].mac: {text:?}")), "{s}");
            assert!(s.contains(why), "{s}");
        }
    }

    #[test]
    fn made_up_macs_are_local_unicast_and_derived_ones_stable() {
        let r = MacAddr::random();
        assert_eq!(&r.0[..3], &RANDOM_PREFIX);
        assert_eq!(r.0[0] & 1, 0);
        let a = MacAddr::derived("zone-a/0");
        assert_eq!(a, MacAddr::derived("zone-a/0"));
        assert_ne!(a, MacAddr::derived("zone-a/1"));
        assert_eq!(&a.0[..3], &RANDOM_PREFIX);
    }
}
