//! The consumer's buffers: where each program's records arrive (the
//! kernel's ring buffer, or the user-space backend's queue), DTrace's
//! buffer policies (`switch`, `fill`, `ring`), speculations held until
//! commit or discard, and drops reported in DTrace's words.

use super::decode;
use super::session::{BufPolicy, Session, SessionError};
use crate::model::value::Value;
use d_lang::codegen::{Counter, MapRole, RecordKind};
use std::io::Write;
use std::rc::Rc;

/// A tick or profile probe of the user-space backend: the consumer fires it.
pub(super) struct UserTimer {
    pub(super) period: std::time::Duration,
    pub(super) next: std::time::Instant,
    pub(super) prog: (usize, usize),
}

impl Session<'_> {
    /// Take one record of instance `ii`: an error record is reported; the
    /// rest go through the buffer policy and speculations to be printed.
    pub(super) fn handle(&mut self, ii: usize, bytes: &[u8]) -> Result<(), SessionError> {
        if let Some(e) = decode::error_record(bytes) {
            return self.report_error(ii, e);
        }
        let enablings = Rc::clone(&self.enablings[ii]);
        let rec = match decode::record(&enablings, bytes) {
            Ok(r) => r,
            Err(e) => {
                writeln!(self.err, "dtrace: {e}")?;
                return Ok(());
            }
        };
        match self.opts.bufpolicy {
            BufPolicy::Ring if !self.replaying => {
                // Keep the newest bufsize bytes; exit() still ends the run.
                if let Some((_, v)) = rec
                    .actions
                    .iter()
                    .find(|(a, _)| matches!(a.kind, RecordKind::Exit))
                {
                    if self.exit.is_none() {
                        self.exit = Some(v.first().and_then(Value::as_i64).unwrap_or(0) as i32);
                    }
                }
                self.ring.push_back((ii, bytes.to_vec()));
                self.ring_bytes += bytes.len() as u64;
                while self.ring_bytes > self.opts.bufsize && self.ring.len() > 1 {
                    if let Some((_, old)) = self.ring.pop_front() {
                        self.ring_bytes -= old.len() as u64;
                    }
                }
                return Ok(());
            }
            BufPolicy::Fill if !self.ending => {
                self.filled += bytes.len() as u64;
                if self.filled > self.opts.bufsize {
                    // The buffer is full: tracing stops, as dtrace(1)
                    // stops on DTRACE_STATUS_FILLED.
                    if self.exit.is_none() {
                        self.exit = Some(0);
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
        if let Some(id) = rec.speculation {
            let held = self.speculations.entry((ii, id)).or_default();
            let used: usize = held.iter().map(Vec::len).sum();
            if id == 0 || (used + bytes.len()) as u64 > self.opts.specsize.max(1) {
                self.spec_drops += 1;
            } else {
                held.push(bytes.to_vec());
            }
            return Ok(());
        }
        self.print_record(ii, &rec)
    }

    /// Report new drops, in DTrace's words.
    pub(super) fn report_drops(&mut self) -> Result<(), SessionError> {
        let droptags = self.opts.droptags;
        let tag = |t: &str| {
            if droptags {
                format!("[{t}] ")
            } else {
                String::new()
            }
        };
        if self.spec_drops > 0 {
            let n = self.spec_drops;
            writeln!(
                self.err,
                "dtrace: {}{n} speculative drop{}",
                tag("DTRACEDROP_SPEC"),
                if n > 1 { "s" } else { "" }
            )?;
            self.spec_drops = 0;
        }
        for ii in 0..self.instances.len() {
            let inst = &self.instances[ii];
            let Some(ci) = inst
                .object
                .maps
                .iter()
                .position(|m| m.role == MapRole::Counters)
            else {
                continue;
            };
            let Ok(Some(per_cpu)) = inst.maps[ci].lookup_percpu(&0u32.to_ne_bytes()) else {
                continue;
            };
            for (cpu, v) in per_cpu.iter().enumerate() {
                for (counter, what) in [
                    (Counter::RecordDrops, "drop"),
                    (Counter::DynvarDrops, "dynamic variable drop"),
                    (Counter::AggDrops, "aggregation drop"),
                    (Counter::SpecBusy, "failed speculation"),
                ] {
                    let i = counter as usize;
                    let mut w = [0u8; 8];
                    if let Some(s) = v.get(i * 8..i * 8 + 8) {
                        w.copy_from_slice(s);
                    }
                    let total = u64::from_ne_bytes(w);
                    let key = (ii, (cpu as u32) << 8 | i as u32);
                    let seen = self.drops.get(&key).copied().unwrap_or(0);
                    if total > seen {
                        let n = total - seen;
                        let s = if n > 1 { "s" } else { "" };
                        let t = tag(match counter {
                            Counter::RecordDrops => "DTRACEDROP_PRINCIPAL",
                            Counter::AggDrops => "DTRACEDROP_AGGREGATION",
                            Counter::DynvarDrops => "DTRACEDROP_DYNAMIC",
                            // speculation() found every buffer in use.
                            _ => "DTRACEDROP_SPECUNAVAIL",
                        });
                        match counter {
                            Counter::DynvarDrops => writeln!(self.err, "dtrace: {t}{n} {what}{s}")?,
                            Counter::SpecBusy => writeln!(
                                self.err,
                                "dtrace: {t}{n} {what}{s} (no speculative buffer available)"
                            )?,
                            _ => writeln!(self.err, "dtrace: {t}{n} {what}{s} on CPU {cpu}")?,
                        }
                        self.drops.insert(key, total);
                    }
                }
            }
        }
        Ok(())
    }
}
