//! The `vnic` provider's kernel half: frames through Lumen's vNICs and the
//! classifier's drops. (`create` and `destroy` are the tools' USDT probes,
//! `vnicPID:::create`, declared in `probes/src/vnic.rs`.)
//!
//! A vNIC's links are in link group `0x4c4d` (the `net` crate's
//! `link::GROUP`); its host end is an etherstub's port, its client end
//! (`net0` in a zone) is not.
//!
//! | probe | tracepoint | fires when | args |
//! |---|---|---|---|
//! | `drop` | `skb:kfree_skb` | the vNIC's classifier dropped a frame (its mark says why: `net::props::DROP_MARK`) | `args[0]` `string` the vNIC (its host end), `args[1]` `uint32_t` bytes, `args[2]` `string` the reason: `mac-nospoof`, `ip-nospoof` or `restricted` |
//! | `rx` | `net:net_dev_xmit` | the host end passes a frame to the client | `args[0]` the vNIC, `args[1]` bytes |
//! | `tx` | `net:net_dev_xmit` | the client end sends a frame | `args[0]` the vNIC (the client end's peer: its host end), `args[1]` bytes |
//!
//! `zonename` and `zoneid` are the vNIC's zone: the network namespace of
//! its client end. Frames are counted as the client sees them: `tx` is
//! what the zone sent, `rx` what it was given (after `maxbw`).
//! A vNIC made in the global zone with `dladm create-vnic` is named by its
//! host end, `NAME_h`.

use super::{Stability, StableProbe, StableProvider};

/// The provider's name.
pub const PROVIDER: &str = "vnic";

/// Every kernel-side `vnic` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe::new(
        "drop",
        &[("skb", "kfree_skb")],
        &["string", "uint32_t", "string"],
    ),
    StableProbe::new("rx", &[("net", "net_dev_xmit")], &["string", "uint32_t"]),
    StableProbe::new("tx", &[("net", "net_dev_xmit")], &["string", "uint32_t"]),
];

/// The `vnic` provider.
pub const VNIC: StableProvider = super::netinfo::provider(PROVIDER, Stability::Evolving, PROBES);
