//! The `syscall` provider: `syscall:vmlinux:NAME:entry` and `:return` on the `syscalls` tracepoints.
//!
//! | kernel event | probe |
//! |---|---|
//! | `syscalls:sys_enter_NAME` | `syscall:vmlinux:NAME:entry`, `args[]` = the format's fields after `__syscall_nr` |
//! | `syscalls:sys_exit_NAME` | `syscall:vmlinux:NAME:return`, `args[0]` = `long ret` |
//!
//! Probes are ordered by syscall name, `entry` before `return`.

use super::fields::field_sources;
use super::ArgSource as Types;
use super::{attached_format, Attachment, ProbeSource, ProbeSpec, TracepointProvider};
use crate::tracefs::EventName;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeInfo;
use std::collections::BTreeMap;

/// The provider's name.
pub const PROVIDER: &str = "syscall";
/// The module every syscall probe has.
pub const MODULE: &str = "vmlinux";
/// The tracefs subsystem the probes come from.
pub const SUBSYSTEM: &str = "syscalls";

/// The probes for the `syscalls:*` events among `events`.
pub fn probes(events: &[EventName]) -> Vec<ProbeSpec> {
    // name -> (enter event, exit event)
    let mut calls: BTreeMap<&str, (Option<&EventName>, Option<&EventName>)> = BTreeMap::new();
    for ev in events.iter().filter(|e| e.subsystem == SUBSYSTEM) {
        if let Some(name) = ev.event.strip_prefix("sys_enter_") {
            calls.entry(name).or_default().0 = Some(ev);
        } else if let Some(name) = ev.event.strip_prefix("sys_exit_") {
            calls.entry(name).or_default().1 = Some(ev);
        }
    }
    let mut out = Vec::new();
    for (name, (enter, exit)) in calls {
        for (ev, probe_name) in [(enter, "entry"), (exit, "return")] {
            if let Some(ev) = ev {
                out.push(ProbeSpec {
                    provider: PROVIDER,
                    module: MODULE.to_string(),
                    function: name.to_string(),
                    name: probe_name.to_string(),
                    args: Types::Syscall(ev.clone()),
                });
            }
        }
    }
    out
}

/// The `syscall` provider.
pub const SYSCALL: TracepointProvider = TracepointProvider {
    name: PROVIDER,
    list: probes,
    target,
};

/// Entry probes read the call's arguments (8-byte values for `argN`,
/// typed for `args[]`); return probes the return value, as `arg0` and
/// `arg1` both.
fn target(
    probe: &ProbeInfo,
    attachment: &Attachment,
    src: &dyn ProbeSource,
) -> Result<ProbeTarget, String> {
    let fmt = attached_format(attachment, src)?;
    let args: Vec<ArgSource> = field_sources(
        fmt.event_fields()
            .skip_while(|f| f.name != "__syscall_nr")
            .skip(1),
    );
    let tracepoint = |args, typed_args, syscall_ret| ProbeTarget {
        prog_type: ProgType::Tracepoint,
        args,
        typed_args: Some(typed_args),
        filters: Vec::new(),
        syscall_ret,
        function_entry: false,
        netns: None,
    };
    if probe.name == "return" {
        // DTrace: arg0 and arg1 both hold the return value.
        let ret = args.first().cloned().unwrap_or(ArgSource::Const(0));
        return Ok(tracepoint(
            vec![ret.clone(), ret.clone()],
            vec![ret.clone()],
            Some(ret),
        ));
    }
    // Syscall arguments are 8-byte values: argN reads them as such.
    let raw = args
        .iter()
        .map(|a| match a {
            ArgSource::CtxField { offset, .. } => ArgSource::CtxField {
                offset: *offset,
                size: 8,
                signed: false,
            },
            other => other.clone(),
        })
        .collect();
    Ok(tracepoint(raw, args, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_and_return_in_name_order() {
        let events = [
            EventName::new("syscalls", "sys_exit_write"),
            EventName::new("syscalls", "sys_enter_write"),
            EventName::new("syscalls", "sys_enter_read"),
            EventName::new("syscalls", "sys_exit_read"),
            EventName::new("sched", "sched_switch"),
        ];
        let names: Vec<String> = probes(&events)
            .iter()
            .map(|p| format!("{}:{}:{}:{}", p.provider, p.module, p.function, p.name))
            .collect();
        assert_eq!(
            names,
            [
                "syscall:vmlinux:read:entry",
                "syscall:vmlinux:read:return",
                "syscall:vmlinux:write:entry",
                "syscall:vmlinux:write:return"
            ]
        );
    }
}
