//! The devices a zone may use: one allowlist that both builds the zone's
//! `/dev` (a node of its own for each, owned by the zone's root) and
//! writes the devices cgroup's rules, so the two cannot disagree.
//! Everything else is refused by the cgroup, whatever node a zone makes
//! or finds.

/// A character device the zone may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Its path under `/dev`.
    pub path: &'static str,
    /// Major number.
    pub major: u32,
    /// Minor number; None for every minor (the pty slaves).
    pub minor: Option<u32>,
    /// Mode bits of its node.
    pub mode: u32,
}

/// Every zone's devices: what a shell and its programs expect.
pub const BASE: &[Device] = &[
    dev("null", 1, 3),
    dev("zero", 1, 5),
    dev("full", 1, 7),
    dev("random", 1, 8),
    dev("urandom", 1, 9),
    dev("tty", 5, 0),
];

/// The pty multiplexer and slaves: allowed in the cgroup, but reached
/// through the zone's own devpts instance, not through nodes of ours.
pub const PTYS: &[Device] = &[
    Device {
        path: "pts/ptmx",
        major: 5,
        minor: Some(2),
        mode: 0o666,
    },
    // Unix98 pty slaves take majors 136 to 143.
    Device {
        path: "pts/*",
        major: 136,
        minor: None,
        mode: 0o620,
    },
];

/// What the `kvm` brand adds: the VMM's KVM and its taps.
pub const KVM: &[Device] = &[
    Device {
        path: "kvm",
        major: 10,
        minor: Some(232),
        mode: 0o600,
    },
    Device {
        path: "net/tun",
        major: 10,
        minor: Some(200),
        mode: 0o600,
    },
];

const fn dev(path: &'static str, major: u32, minor: u32) -> Device {
    Device {
        path,
        major,
        minor: Some(minor),
        mode: 0o666,
    }
}

impl Device {
    /// The devices cgroup's rule allowing it (`c 1:3 rwm`).
    pub fn rule(&self) -> String {
        match self.minor {
            Some(m) => format!("c {}:{m} rwm", self.major),
            None => format!("c {}:* rwm", self.major),
        }
    }

    /// Whether the zone gets a node of ours for it (pty slaves come from
    /// devpts).
    pub fn has_node(&self) -> bool {
        !self.path.starts_with("pts/")
    }

    /// Its `dev_t`.
    pub fn dev_t(&self) -> libc::dev_t {
        libc::makedev(self.major, self.minor.unwrap_or(0))
    }
}

/// A zone's devices: the base set, ptys, and the brand's.
pub fn allowed(kvm: bool) -> Vec<Device> {
    let mut all: Vec<Device> = BASE.iter().chain(PTYS).copied().collect();
    if kvm {
        all.extend_from_slice(KVM);
    }
    // The other pty slave majors (137..=143) for hosts with many ptys.
    all.extend((137..=143).map(|major| Device {
        path: "pts/*",
        major,
        minor: None,
        mode: 0o620,
    }));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_nodes() {
        let all = allowed(false);
        assert!(all.iter().any(|d| d.rule() == "c 1:3 rwm"));
        assert!(all.iter().any(|d| d.rule() == "c 136:* rwm"));
        assert!(!all.iter().any(|d| d.path == "kvm"));
        let kvm = allowed(true);
        assert!(kvm.iter().any(|d| d.rule() == "c 10:232 rwm"));
        let nodes: Vec<&str> = kvm
            .iter()
            .filter(|d| d.has_node())
            .map(|d| d.path)
            .collect();
        assert_eq!(
            nodes,
            ["null", "zero", "full", "random", "urandom", "tty", "kvm", "net/tun"]
        );
    }
}
