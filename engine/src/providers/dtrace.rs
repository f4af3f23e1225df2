//! The `dtrace` provider: `BEGIN`, `END` and `ERROR`, fired by the consumer itself.
//!
//! Module and function are empty. The IDs are fixed: BEGIN 1, END 2, ERROR 3,
//! as in every DTrace.

use super::ProbeSpec;

/// The provider's name.
pub const PROVIDER: &str = "dtrace";

/// The three probes, in ID order.
pub fn probes() -> Vec<ProbeSpec> {
    ["BEGIN", "END", "ERROR"]
        .iter()
        .map(|name| ProbeSpec::untyped(PROVIDER, "", "", name))
        .collect()
}
