//! The `udp` provider: UDP datagrams, as Oracle's DTrace for Linux has
//! them, on the kernel's device queue and receive tracepoints.
//!
//! | probe | tracepoint | fires when |
//! |---|---|---|
//! | `receive` | `net:netif_receive_skb` | a UDP datagram arrives on a device that hands it to its stack |
//! | `send` | `net:net_dev_queue` | a UDP datagram of a socket of this host is queued |
//!
//! Arguments: `pktinfo_t *`, `csinfo_t *`, `ipinfo_t *`, `udpsinfo_t *`
//! (the ends, from the headers), `udpinfo_t *`. `zonename` is the zone of
//! the device's network namespace: see `probes::netns`. A datagram
//! fragmented by IP fires once per fragment on the way out, and the
//! fragments after the first carry no UDP header.

use super::{Stability, StableProbe, StableProvider};

/// The provider's name.
pub const PROVIDER: &str = "udp";

const ARGS: &[&str] = &[
    "pktinfo_t *",
    "csinfo_t *",
    "ipinfo_t *",
    "udpsinfo_t *",
    "udpinfo_t *",
];

/// Every `udp` probe, in listing order.
pub const PROBES: &[StableProbe] = &super::netinfo::packet_probes(ARGS);

/// The `udp` provider.
pub const UDP: StableProvider = super::netinfo::provider(PROVIDER, Stability::Stable, PROBES);
