//! The `dtrace` provider: `BEGIN`, `END` and `ERROR`, fired by the consumer itself.
//!
//! Module and function are empty. The IDs are fixed: BEGIN 1, END 2, ERROR 3,
//! as in every DTrace.

use super::{one, Attachment, ProbeSource, ProbeSpec, Provider, Stability};
use crate::tracefs::EventName;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeInfo;

/// The provider's name.
pub const PROVIDER: &str = "dtrace";

/// The three probes, in ID order.
pub fn probes() -> Vec<ProbeSpec> {
    ["BEGIN", "END", "ERROR"]
        .iter()
        .map(|name| ProbeSpec::untyped(PROVIDER, "", "", name))
        .collect()
}

/// The consumer's own symbols each probe's program is attached to (a
/// uprobe on the consumer, or a test run for the user-space backend).
const SYMBOLS: &[(&str, &str)] = &[
    ("BEGIN", "lumen_dtrace_begin"),
    ("END", "lumen_dtrace_end"),
    ("ERROR", "lumen_dtrace_error"),
];

/// The `dtrace` provider.
pub struct Dtrace;

impl Provider for Dtrace {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn stability(&self) -> Stability {
        Stability::Stable
    }

    fn listed(&self, _events: &[EventName]) -> Vec<ProbeSpec> {
        probes()
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        _: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let (_, symbol) = SYMBOLS
            .iter()
            .find(|(name, _)| *name == probe.name)
            .ok_or_else(|| format!("unknown dtrace probe {}", probe.name))?;
        one(Attachment::SelfProbe(symbol))
    }

    fn target(
        &self,
        probe: &ProbeInfo,
        _: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        Ok(ProbeTarget {
            prog_type: ProgType::RawTracepoint,
            // ERROR's arguments are what the consumer passes to the test
            // run: 0, EPID, action, pc, fault, address.
            args: if probe.name == "ERROR" {
                (0..6)
                    .map(|i| ArgSource::CtxField {
                        offset: i * 8,
                        size: 8,
                        signed: false,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            typed_args: None,
            filters: Vec::new(),
            syscall_ret: None,
            function_entry: false,
            netns: None,
        })
    }
}
