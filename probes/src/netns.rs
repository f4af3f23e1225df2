//! The table that names a network namespace's zone, shared by the zones
//! that fill it and the tracer that reads it: `zonename` in a probe that
//! fires for a packet or a socket (`ip`, `tcp`, `udp`, `vnic`) is the zone
//! of the socket's or the device's network namespace, not of whichever
//! task happens to run when the packet arrives.
//!
//! A BPF hash map (LRU, so the entries of namespaces gone without their
//! supervisor age out) pinned at [`PIN`]: key the namespace's cookie
//! (`net->net_cookie`, `SO_NETNS_COOKIE`: never reused), value
//! [`ZoneEntry`]. Zones' supervisors add their zone's namespace at boot and
//! remove it at halt; only the host's root can write it, so a zone cannot
//! name itself another.

/// Where the map is pinned (on the host's bpf filesystem).
pub const PIN: &str = "/sys/fs/bpf/lumen/netns_zones";
/// Bytes of a zone's name in an entry, NUL included.
pub const NAME_LEN: usize = 56;
/// How many namespaces the map holds.
pub const ENTRIES: u32 = 4096;
/// `BPF_MAP_TYPE_LRU_HASH`.
pub const MAP_TYPE: u32 = 9;

/// One entry's value: the zone's id (as `zoneid` reads it: its cgroup2
/// group's id) and its name, NUL-padded.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneEntry {
    /// `zoneid`.
    pub zoneid: u64,
    /// `zonename`, NUL-padded.
    pub name: [u8; NAME_LEN],
}

impl ZoneEntry {
    /// The entry for zone `name` with id `zoneid` (a longer name is cut).
    pub fn new(zoneid: u64, name: &str) -> ZoneEntry {
        let mut n = [0u8; NAME_LEN];
        for (d, b) in n.iter_mut().zip(name.bytes().take(NAME_LEN - 1)) {
            *d = b;
        }
        ZoneEntry { zoneid, name: n }
    }

    /// The bytes the map stores.
    pub fn to_bytes(&self) -> [u8; 8 + NAME_LEN] {
        let mut out = [0u8; 8 + NAME_LEN];
        out[..8].copy_from_slice(&self.zoneid.to_ne_bytes());
        out[8..].copy_from_slice(&self.name);
        out
    }
}
