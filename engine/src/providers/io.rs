//! The `io` provider: DTrace's stable block I/O probes on the kernel's `block` request tracepoints.
//!
//! Each probe is `io:::NAME` (module and function empty) and exists when its
//! tracepoint is in tracefs `available_events`. Both fire in whatever thread
//! issues or completes the request (often a kernel worker or an interrupt),
//! as DTrace's do. Attaching uses this mapping.
//!
//! | probe | tracepoint | fires when | args from |
//! |---|---|---|---|
//! | `done` | `block:block_rq_complete` | a request completes | `args[0]` `bufinfo_t *` (`sector`, `nr_sector`, `rwbs`, `error`), `args[1]` `devinfo_t *` (`dev`), `args[2]` `fileinfo_t *` |
//! | `start` | `block:block_rq_issue` | a request is issued to the device driver | `args[0]` `bufinfo_t *` (`sector`, `nr_sector`, `bytes`, `rwbs`), `args[1]` `devinfo_t *` (`dev`), `args[2]` `fileinfo_t *` |
//!
//! The block layer does not know which file a request is for, so
//! `args[2]` describes no file (`fi_name` is `<unknown>`, as DTrace prints
//! for I/O it cannot attribute). Devices that complete I/O without
//! requests (device-mapper, md) fire neither probe, as they would not in
//! DTrace's driver-level `io` provider either.
//!
//! Omitted, having no honest tracepoint: `wait-start` and `wait-done` (a
//! thread starting and ending a wait for an I/O; Linux has no tracepoint in
//! its I/O waits, and `block:block_io_start` / `block_io_done` mark I/O
//! accounting of requests, not waits).
//!
//! Probes are listed in name order.

use super::fields::{stable_target, view, Fields};
use super::{Stability, StableProbe, StableProvider, StableTarget};
use d_lang::codegen::{FieldOp, ProbeTarget};

/// The provider's name.
pub const PROVIDER: &str = "io";

const ARGS: &[&str] = &["bufinfo_t *", "devinfo_t *", "fileinfo_t *"];

/// Every `io` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe::new("done", &[("block", "block_rq_complete")], ARGS),
    StableProbe::new("start", &[("block", "block_rq_issue")], ARGS),
];

/// The `io` provider.
pub const IO: StableProvider = StableProvider {
    name: PROVIDER,
    stability: Stability::Stable,
    probes: PROBES,
    target: StableTarget::Fields(target),
};

/// Both probes: `bufinfo_t`, `devinfo_t` and `fileinfo_t` of the request.
fn target(_: &str, f: &Fields) -> ProbeTarget {
    // block_rq_complete has no bytes field: the sectors say it.
    let bytes = if f.has("bytes") {
        f.src("bytes")
    } else {
        f.op("nr_sector", FieldOp::Mul(512))
    };
    let args = vec![
        view(
            "bufinfo_t",
            &[
                ("b_flags", f.op("rwbs", FieldOp::RwbsFlags)),
                ("b_bcount", bytes.clone()),
                ("b_bufsize", bytes),
                ("b_blkno", f.src("sector")),
                ("b_lblkno", f.src("sector")),
                ("b_error", f.src("error")),
                ("b_edev", f.src("dev")),
            ],
        ),
        view(
            "devinfo_t",
            &[
                ("dev_major", f.op("dev", FieldOp::Shr(20))),
                ("dev_minor", f.op("dev", FieldOp::And(0xfffff))),
            ],
        ),
        view("fileinfo_t", &[]),
    ];
    stable_target(args, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ArgSource, Provider};
    use crate::tracefs::EventName;

    #[test]
    fn probes_follow_their_tracepoints() {
        assert!(IO
            .listed(&[EventName::new("block", "block_rq_insert")])
            .is_empty());
        let specs = IO.listed(&[
            EventName::new("block", "block_rq_complete"),
            EventName::new("block", "block_rq_issue"),
        ]);
        let names: Vec<&str> = specs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["done", "start"]);
        for p in &specs {
            assert_eq!(
                p.args,
                ArgSource::Fixed(&["bufinfo_t *", "devinfo_t *", "fileinfo_t *"])
            );
        }
        assert_eq!(
            IO.listed(&[EventName::new("block", "block_rq_issue")])[0].name,
            "start"
        );
    }
}
