//! The `sdt` provider: every kernel tracepoint `SUBSYSTEM:EVENT` as `sdt:SUBSYSTEM::EVENT`.
//!
//! The module is the tracefs subsystem (`sched`, `block`, `kvm`…), the
//! function is empty and the name is the event, so `sdt:sched::sched_switch`
//! is the `sched:sched_switch` tracepoint and `sdt:kvm::` every KVM event.
//! `args[]` are the event's own fields from its `format` file. Two
//! subsystems are left out: `syscalls` (the [`super::syscall`] provider
//! covers it) and `ftrace` (internal ftrace records, not attachable
//! tracepoints). Probes are ordered by subsystem, then event.

use super::{plain_tracepoint, ProbeSpec, TracepointProvider};
use crate::tracefs::EventName;

/// The provider's name.
pub const PROVIDER: &str = "sdt";

/// Subsystems that are not offered as `sdt` probes.
pub const EXCLUDED_SUBSYSTEMS: &[&str] = &["syscalls", "ftrace"];

/// The probes for `events` (which must be sorted).
pub fn probes(events: &[EventName]) -> Vec<ProbeSpec> {
    events
        .iter()
        .filter(|e| !EXCLUDED_SUBSYSTEMS.contains(&e.subsystem.as_str()))
        .map(|e| ProbeSpec::on_tracepoint(PROVIDER, &e.subsystem, &e.event, e))
        .collect()
}

/// The `sdt` provider: its arguments are the tracepoint's fields.
pub const SDT: TracepointProvider = TracepointProvider {
    name: PROVIDER,
    list: probes,
    target: plain_tracepoint,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_exclusions() {
        let events = [
            EventName {
                subsystem: "sched".into(),
                event: "sched_switch".into(),
            },
            EventName {
                subsystem: "syscalls".into(),
                event: "sys_enter_read".into(),
            },
        ];
        let p = probes(&events);
        assert_eq!(p.len(), 1);
        assert_eq!(
            (
                p[0].module.as_str(),
                p[0].function.as_str(),
                p[0].name.as_str()
            ),
            ("sched", "", "sched_switch")
        );
    }
}
