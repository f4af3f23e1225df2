//! Attaching a run's programs: a link for each (tracepoint, timer,
//! uprobe, trampoline), the syscall dispatcher where many syscall probes
//! would each need a tracepoint, the records' rings, and the programs the
//! consumer itself fires (BEGIN, END, ERROR, the user-space backend's
//! timers).

use super::buffers::UserTimer;
use super::instance::Instance;
use super::session::{OutputOptions, Session, SessionError};
use crate::attach::{self, Link};
use crate::backend::Attached;
use crate::sys::bpf::BpfMap;
use crate::target::Attachment;
use crate::tracefs::Tracefs;
use d_lang::codegen::MapRole;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::rc::Rc;

/// From this many syscall probes of one direction, one `raw_syscalls`
/// program dispatches to them by syscall number.
pub const DISPATCH_THRESHOLD: usize = 8;

/// Build a syscall dispatcher: a prog array of the per-syscall programs by
/// number, and a tracepoint program on `raw_syscalls:sys_enter`/`sys_exit`
/// that tail-calls `table[id]`. The per-syscall programs read their
/// arguments at the same offsets in the raw record (`args[]` at 16 + 8n,
/// `ret` at 16) as in their own `sys_enter_*`/`sys_exit_*` records.
fn dispatch(
    inst: &Instance,
    calls: &[(usize, u32)],
    enter: bool,
    tracefs: &Tracefs,
) -> Result<((BpfMap, OwnedFd), Link), SessionError> {
    use std::os::fd::{AsFd, AsRawFd};
    let name = if enter { "sys_enter" } else { "sys_exit" };
    let fail = |reason: String| SessionError::Attach {
        probe: format!("raw_syscalls:{name}"),
        reason,
    };
    let table = BpfMap::create(&crate::sys::bpf::MapDef {
        kind: crate::sys::bpf::MapKind::ProgArray,
        key_size: 4,
        value_size: 4,
        max_entries: 1024,
        flags: 0,
        name: format!("dispatch_{}", if enter { "in" } else { "out" }),
    })
    .map_err(|e| fail(e.to_string()))?;
    for (pi, nr) in calls {
        let Some(prog) = inst.programs[*pi].kernel_fd() else {
            return Err(fail("syscall dispatch needs kernel programs".into()));
        };
        let fd = prog.as_raw_fd() as u32;
        table
            .update(
                &nr.to_ne_bytes(),
                &fd.to_ne_bytes(),
                crate::sys::bpf::UpdateFlags::Any,
            )
            .map_err(|e| fail(e.to_string()))?;
    }
    let insns = d_lang::codegen::dispatch::syscall_dispatcher(table.as_fd().as_raw_fd());
    let raw: Vec<u64> = insns
        .iter()
        .map(|i| u64::from_le_bytes(i.to_bytes()))
        .collect();
    let prog = crate::sys::bpf::prog_load(
        crate::sys::bpf::ProgKind::Tracepoint,
        "lumen_dispatch",
        &raw,
    )
    .map_err(|e| fail(format!("{e}: {}", e.log)))?;
    let link = attach::attach_tracepoint_in(tracefs, prog.as_fd(), "raw_syscalls", name)
        .map_err(|e| fail(e.to_string()))?;
    Ok(((table, prog), link))
}

impl<'o> Session<'o> {
    /// Attach every program of every instance (BEGIN and END are only
    /// remembered: the consumer fires them).
    pub fn attach(
        instances: Vec<Instance>,
        attachments: Vec<Vec<Attachment>>,
        tracefs: Option<&Tracefs>,
        out: impl Write + 'o,
        err: impl Write + 'o,
        opts: OutputOptions,
    ) -> Result<Session<'o>, SessionError> {
        let mut links = Vec::new();
        let mut rings = Vec::new();
        let mut begin = Vec::new();
        let mut end = Vec::new();
        let mut error = Vec::new();
        let mut dispatch_tables = Vec::new();
        let mut timers = Vec::new();
        for (ii, (inst, atts)) in instances.iter().zip(&attachments).enumerate() {
            let ring_map = inst
                .object
                .maps
                .iter()
                .position(|m| m.role == MapRole::Records);
            if let Some(map) = ring_map.and_then(|i| inst.maps.get(i)) {
                rings.push(map.records().map_err(SessionError::Read)?);
            }
            // Many syscall probes: one raw_syscalls program per direction
            // tail-calls the per-syscall programs, instead of hundreds of
            // attachments (each costs ~70 ms to detach).
            let mut dispatched = HashSet::new();
            // Returns first: an entry seen before its return was attached
            // would leave per-call state (a speculation, self->ts) behind.
            for enter in [false, true] {
                let prefix = if enter { "sys_enter_" } else { "sys_exit_" };
                let calls: Vec<(usize, u32)> = atts
                    .iter()
                    .enumerate()
                    .filter_map(|(pi, a)| match a {
                        Attachment::Tracepoint(ev) if ev.subsystem == "syscalls" => ev
                            .event
                            .strip_prefix(prefix)
                            .and_then(crate::providers::syscall_numbers::number)
                            .map(|nr| (pi, nr)),
                        _ => None,
                    })
                    .collect();
                if calls.len() < DISPATCH_THRESHOLD
                    || calls
                        .iter()
                        .any(|(pi, _)| inst.programs[*pi].kernel_fd().is_none())
                {
                    continue;
                }
                let tracefs = tracefs.ok_or_else(|| SessionError::Attach {
                    probe: "syscall".into(),
                    reason: "tracefs is not available".into(),
                })?;
                let (table, link) = dispatch(inst, &calls, enter, tracefs)?;
                dispatch_tables.push(table);
                links.push(link);
                dispatched.extend(calls.iter().map(|(pi, _)| *pi));
            }
            // Return probes before the rest, for the same reason.
            let mut order: Vec<usize> = (0..inst.programs.len()).collect();
            order.sort_by_key(|&pi| inst.object.programs[pi].probe.name != "return");
            for pi in order {
                let (Some(prog), Some(att)) = (inst.programs.get(pi), atts.get(pi)) else {
                    continue;
                };
                if dispatched.contains(&pi) {
                    continue;
                }
                if let Attachment::SelfProbe(sym) = att {
                    // BEGIN, END and ERROR run when the consumer fires them.
                    match *sym {
                        "lumen_dtrace_begin" => begin.push((ii, pi)),
                        "lumen_dtrace_end" => end.push((ii, pi)),
                        "lumen_dtrace_error" => error.push((ii, pi)),
                        _ => {}
                    }
                    continue;
                }
                let probe = inst.object.programs[pi].probe.full_name();
                let attached =
                    prog.attach(att, &probe, tracefs)
                        .map_err(|reason| SessionError::Attach {
                            probe: probe.clone(),
                            reason,
                        })?;
                match attached {
                    Attached::Links(l) => links.extend(l),
                    Attached::ConsumerTimer(period) => timers.push(UserTimer {
                        period,
                        next: std::time::Instant::now() + period,
                        prog: (ii, pi),
                    }),
                }
            }
        }
        let enablings = instances
            .iter()
            .map(|i| Rc::from(i.object.enablings.clone()))
            .collect();
        Ok(Session {
            enablings,
            instances,
            rings,
            timers,
            links,
            _dispatch: dispatch_tables,
            begin,
            end,
            error,
            out: Box::new(out),
            err: Box::new(err),
            opts,
            header_done: false,
            exit: None,
            printed: HashSet::new(),
            normalize: HashMap::new(),
            drops: HashMap::new(),
            speculations: HashMap::new(),
            flow: crate::print::probe_line::FlowIndent::new(),
            reopened: None,
            ring: std::collections::VecDeque::new(),
            ring_bytes: 0,
            filled: 0,
            replaying: false,
            ending: false,
            stopped_by_program: false,
            spec_drops: 0,
            feed: None,
        })
    }
}
