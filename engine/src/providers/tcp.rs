//! The `tcp` provider: TCP connections and segments, as Oracle's DTrace
//! for Linux has them, on the kernel's socket-state, reset and device
//! tracepoints.
//!
//! | probe | tracepoint | fires when |
//! |---|---|---|
//! | `accept-established` | `sock:inet_sock_set_state` | a passive open completes: `SYN_RECV` → `ESTABLISHED`, in the new connection |
//! | `accept-refused` | `tcp:tcp_send_reset` | a reset answers a SYN that no socket takes (a closed port) |
//! | `connect-established` | `sock:inet_sock_set_state` | an active open completes: `SYN_SENT` → `ESTABLISHED` |
//! | `connect-refused` | `sock:inet_sock_set_state` | `SYN_SENT` → `CLOSE` with the socket's error `ECONNREFUSED` (a reset answered the SYN) |
//! | `connect-request` | `sock:inet_sock_set_state` | `CLOSE` → `SYN_SENT`: the SYN goes out |
//! | `receive` | `net:netif_receive_skb` | a TCP segment arrives on a device that hands it to its stack |
//! | `send` | `net:net_dev_queue` | a TCP segment of a socket of this host is queued |
//! | `state-change` | `sock:inet_sock_set_state` | a TCP socket changes state |
//!
//! Arguments are DTrace's: `pktinfo_t *`, `csinfo_t *`, `ipinfo_t *`,
//! `tcpsinfo_t *`, `tcpinfo_t *`; `state-change` has `csinfo_t *` in
//! `args[1]`, `tcpsinfo_t *` in `args[3]` and `tcplsinfo_t *` (the
//! previous state) in `args[5]`, the others `void *` (NULL). States are
//! Linux's numbers (`TCP_ESTABLISHED` 1 … `TCP_NEW_SYN_RECV` 12), as in
//! DTrace for Linux. Probes made from a state change have no segment:
//! their `tcpinfo_t` holds only what the socket knows (its ports), and
//! `ip_plength` is 0. `receive` fires before the segment meets its
//! socket: `tcpsinfo_t` has its ends from the headers but no sequence
//! variables. `zonename` is the zone of the socket's network namespace
//! (the device's, for a segment): see `probes::netns`.
//!
//! Omitted, having no honest tracepoint: none; `accept-refused` cannot
//! tell a SYN answered by a reset from a stray segment reset by the stack
//! except through the segment's flags, which it checks.

use super::{Stability, StableProbe, StableProvider};

/// The provider's name.
pub const PROVIDER: &str = "tcp";

const STATE: (&str, &str) = ("sock", "inet_sock_set_state");
const ARGS: &[&str] = &[
    "pktinfo_t *",
    "csinfo_t *",
    "ipinfo_t *",
    "tcpsinfo_t *",
    "tcpinfo_t *",
];

/// Every `tcp` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe::new("accept-established", &[STATE], ARGS),
    StableProbe::new("accept-refused", &[("tcp", "tcp_send_reset")], ARGS),
    StableProbe::new("connect-established", &[STATE], ARGS),
    StableProbe::new("connect-refused", &[STATE], ARGS),
    StableProbe::new("connect-request", &[STATE], ARGS),
    StableProbe::new("receive", &[super::netinfo::RECEIVE], ARGS),
    StableProbe::new("send", &[super::netinfo::SEND], ARGS),
    StableProbe::new(
        "state-change",
        &[STATE],
        &[
            "void *",
            "csinfo_t *",
            "void *",
            "tcpsinfo_t *",
            "void *",
            "tcplsinfo_t *",
        ],
    ),
];

/// The `tcp` provider.
pub const TCP: StableProvider = super::netinfo::provider(PROVIDER, Stability::Stable, PROBES);
