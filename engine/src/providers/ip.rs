//! The `ip` provider: IP packets sent and received by a namespace's stack,
//! as Oracle's DTrace for Linux has them, on the kernel's device queue and
//! receive tracepoints.
//!
//! | probe | tracepoint | fires when | args |
//! |---|---|---|---|
//! | `receive` | `net:netif_receive_skb` | an IPv4 or IPv6 packet arrives on a device that hands it to its own stack (not a bridge's port: a frame an etherstub switches is not received) | `pktinfo_t *`, `csinfo_t *`, `ipinfo_t *`, `ifinfo_t *`, `ipv4info_t *`, `void *` |
//! | `send` | `net:net_dev_queue` | an IPv4 or IPv6 packet of a socket of this host (not one forwarded or switched) is queued to its device | the same |
//!
//! `zonename` and `zoneid` name the zone of the device's network
//! namespace (the socket's, for a packet sent), not of the task that
//! happens to run: see `probes::netns`. Translators: [`super::netinfo`].
//!
//! Deviations: `args[5]` (`ipv6info_t *`) is not translated yet;
//! `ipv4info_t` is read as IPv4 whatever the version; `pktinfo_t` has no
//! `pkt_addr` (DTrace sets it NULL too). Loopback packets fire both
//! probes, as DTrace's do.

use super::{Stability, StableProbe, StableProvider};

/// The provider's name.
pub const PROVIDER: &str = "ip";

const ARGS: &[&str] = &[
    "pktinfo_t *",
    "csinfo_t *",
    "ipinfo_t *",
    "ifinfo_t *",
    "ipv4info_t *",
    "void *",
];

/// Every `ip` probe, in listing order.
pub const PROBES: &[StableProbe] = &super::netinfo::packet_probes(ARGS);

/// The `ip` provider.
pub const IP: StableProvider = super::netinfo::provider(PROVIDER, Stability::Stable, PROBES);
