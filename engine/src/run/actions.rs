//! What a record's actions do on the consumer's side: print (`trace`,
//! `printf`, `printa`, the default probe line), change aggregations
//! (`clear`, `trunc`, `normalize`), end the run (`exit`), the destructive
//! actions (`system`, `freopen`), and committing speculations.

use super::decode::{self, Record};
use super::session::{Session, SessionError};
use super::snapshot::{self, Merged};
use crate::model::aggregation;
use crate::model::value::Value;
use crate::print::printf::render;
use crate::print::trace::{trace, TraceStyle};
use d_lang::codegen::{AggObj, RecordKind};
use d_lang::ir::AggId;
use std::collections::HashSet;
use std::io::Write;
use std::rc::Rc;

impl Session<'_> {
    /// Carry out a record's actions and print what they print.
    pub(super) fn print_record(&mut self, ii: usize, rec: &Record<'_>) -> Result<(), SessionError> {
        let quiet = self.opts.quiet;
        let mut text = String::new();
        // commit() and discard() print nothing themselves.
        let visible = rec
            .actions
            .iter()
            .any(|(a, _)| !matches!(a.kind, RecordKind::Commit | RecordKind::Discard))
            || rec.actions.is_empty();
        if !quiet && visible {
            use crate::print::probe_line;
            let flow = self.opts.flowindent;
            if !self.header_done {
                text.push_str(if flow {
                    probe_line::FLOW_HEADER
                } else {
                    probe_line::HEADER
                });
                self.header_done = true;
            }
            let p = &rec.enabling.probe;
            if flow {
                self.flow
                    .record_prefix(rec.cpu, &p.provider, &p.function, &p.name, &mut text);
            } else {
                probe_line::record_prefix(rec.cpu, p.id, &p.function, &p.name, false, &mut text);
            }
        }
        let style = TraceStyle {
            quiet,
            rawbytes: self.opts.rawbytes,
        };
        for (action, values) in &rec.actions {
            match &action.kind {
                RecordKind::Trace | RecordKind::Print => {
                    if let Some(v) = values.first() {
                        trace(v, style, &mut text);
                    }
                }
                RecordKind::Printf(fmt) => {
                    if let Err(e) = render(fmt, values, &mut text) {
                        writeln!(self.err, "dtrace: {e}")?;
                    }
                }
                RecordKind::Freopen(fmt) => {
                    let mut path = String::new();
                    let _ = render(fmt, values, &mut path);
                    self.sink().write_all(text.as_bytes())?;
                    text.clear();
                    self.sink().flush()?;
                    if path.is_empty() {
                        self.reopened = None;
                    } else {
                        match std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(&path)
                        {
                            Ok(f) => self.reopened = Some(f),
                            Err(e) => writeln!(
                                self.err,
                                "dtrace: failed to freopen {path}: {}",
                                crate::error::reason(&e)
                            )?,
                        }
                    }
                }
                RecordKind::System(fmt) => {
                    let mut cmd = String::new();
                    let _ = render(fmt, values, &mut cmd);
                    self.sink().write_all(text.as_bytes())?;
                    text.clear();
                    self.sink().flush()?;
                    let _ = std::process::Command::new("/bin/sh")
                        .arg("-c")
                        .arg(&cmd)
                        .status();
                }
                RecordKind::Printa(fmt, ids) => {
                    let aggs: Vec<AggObj> = ids
                        .iter()
                        .filter_map(|id| self.instances[ii].object.aggs.get(id.0 as usize).cloned())
                        .collect();
                    let mut snaps = Vec::new();
                    for a in &aggs {
                        snaps.push(self.snapshot(ii, a)?);
                        self.printed.insert((ii, a.id));
                    }
                    match fmt {
                        Some(f) => {
                            if let Err(e) =
                                crate::print::print_formatted(f, &snaps, &self.opts.sort, &mut text)
                            {
                                writeln!(self.err, "dtrace: {e}")?;
                            }
                        }
                        None => crate::print::print_joined(&snaps, &self.opts.sort, &mut text),
                    }
                }
                RecordKind::Exit => {
                    let status = values.first().and_then(Value::as_i64).unwrap_or(0);
                    // The first exit() ends the run; END's, after it,
                    // has the last word on the status, as in DTrace.
                    if self.exit.is_none() || self.ending {
                        self.exit = Some(status as i32);
                    }
                }
                RecordKind::Clear(id) => self.clear(ii, *id, false)?,
                RecordKind::Trunc(id) => {
                    let n = values.first().and_then(Value::as_i64);
                    self.trunc(ii, *id, n)?;
                }
                RecordKind::Normalize(id) => {
                    let n = values.first().and_then(Value::as_i64).unwrap_or(1);
                    self.normalize.insert((ii, *id), n.max(1));
                }
                RecordKind::Denormalize(id) => {
                    self.normalize.remove(&(ii, *id));
                }
                RecordKind::Setopt(name, _value) => {
                    if name == "quiet" {
                        self.opts.quiet = true;
                    }
                }
                RecordKind::Tracemem => {
                    if let Some(Value::Bytes(b)) = values.first() {
                        crate::print::trace::rawbytes(b, &mut text);
                    }
                }
                RecordKind::Commit | RecordKind::Discard => {
                    let id = values.first().and_then(Value::as_u64).unwrap_or(0);
                    let held = self.speculations.remove(&(ii, id)).unwrap_or_default();
                    if matches!(action.kind, RecordKind::Commit) {
                        self.sink().write_all(text.as_bytes())?;
                        text.clear();
                        let enablings = Rc::clone(&self.enablings[ii]);
                        for raw in held {
                            if let Ok(r) = decode::record(&enablings, &raw) {
                                self.print_record(ii, &r)?;
                            }
                        }
                    }
                }
            }
        }
        if !quiet && visible {
            text.push('\n');
        }
        self.sink().write_all(text.as_bytes())?;
        Ok(())
    }

    /// clear(): zero every value, keeping the keys (a keyless
    /// aggregation keeps its per-CPU "used" marks).
    pub(super) fn clear(
        &mut self,
        ii: usize,
        id: AggId,
        _delete: bool,
    ) -> Result<(), SessionError> {
        let inst = &self.instances[ii];
        let Some(a) = inst.object.aggs.get(id.0 as usize) else {
            return Ok(());
        };
        let map = &inst.maps[a.map];
        let err = |e: crate::sys::SysError| SessionError::Read(e.to_string());
        if a.array {
            let zero = 0u32.to_ne_bytes();
            if let Some(mut all) = map.lookup_vec(&zero).map_err(err)? {
                let stride = (a.value_size as usize).next_multiple_of(8);
                for slot in all.chunks_mut(stride.max(1)) {
                    slot.iter_mut().skip(8).for_each(|b| *b = 0);
                }
                map.update(&zero, &all, crate::sys::bpf::UpdateFlags::Any)
                    .map_err(err)?;
            }
            return Ok(());
        }
        let zero = vec![0u8; map.lookup_size()];
        for key in map.keys().map_err(err)? {
            let _ = map.update(&key, &zero, crate::sys::bpf::UpdateFlags::Exist);
        }
        Ok(())
    }

    /// trunc(@a[, n]): keep the n largest (n > 0) or smallest (n < 0) entries; none without n.
    pub(super) fn trunc(
        &mut self,
        ii: usize,
        id: AggId,
        n: Option<i64>,
    ) -> Result<(), SessionError> {
        let Some(a) = self.instances[ii].object.aggs.get(id.0 as usize).cloned() else {
            return Ok(());
        };
        let map = &self.instances[ii].maps[a.map];
        if a.array {
            // One entry: trunc(@, n != 0) keeps it; trunc(@) removes it.
            if matches!(n, None | Some(0)) {
                let zero = vec![0u8; map.lookup_size()];
                map.update(
                    &0u32.to_ne_bytes(),
                    &zero,
                    crate::sys::bpf::UpdateFlags::Any,
                )
                .map_err(|e| SessionError::Read(e.to_string()))?;
            }
            return Ok(());
        }
        let entries =
            snapshot::read(&a, map.as_ref()).map_err(|e| SessionError::Read(e.to_string()))?;
        let keep: HashSet<Vec<Value>> = match n {
            None | Some(0) => HashSet::new(),
            Some(n) => {
                let mut sorted: Vec<(Vec<Value>, Merged)> = entries;
                let func = a.func;
                sorted.sort_by(|x, y| aggregation::value_cmp(&func, &x.1.clone(), &y.1.clone()));
                let k = n.unsigned_abs() as usize;
                let chosen: Vec<_> = if n > 0 {
                    sorted.into_iter().rev().take(k).collect()
                } else {
                    sorted.into_iter().take(k).collect()
                };
                chosen.into_iter().map(|(k, _)| k).collect()
            }
        };
        for key in map.keys().map_err(|e| SessionError::Read(e.to_string()))? {
            let decoded: Vec<Value> = a.keys.iter().map(|f| decode::field(&key, 0, f)).collect();
            if !keep.contains(&decoded) {
                let _ = map.delete(&key);
            }
        }
        Ok(())
    }

    /// Look up the user addresses in aggregation keys now, while their
    /// processes live: by the time the aggregation prints, they may have
    /// exited and their mappings be gone (the results are cached).
    pub(super) fn presymbolize(&mut self) -> Result<(), SessionError> {
        use d_lang::codegen::FieldKind;
        for ii in 0..self.instances.len() {
            let aggs: Vec<AggObj> = self.instances[ii]
                .object
                .aggs
                .iter()
                .filter(|a| {
                    a.keys.iter().any(|k| {
                        matches!(
                            k.kind,
                            FieldKind::Stack { user: true, .. }
                                | FieldKind::Addr { user: true, .. }
                        )
                    })
                })
                .cloned()
                .collect();
            for a in &aggs {
                let map = &self.instances[ii].maps[a.map];
                let entries = snapshot::read(a, map.as_ref())
                    .map_err(|e| SessionError::Read(e.to_string()))?;
                for (keys, _) in entries {
                    for k in keys {
                        match k {
                            Value::UStack { pid, pcs } => {
                                for pc in pcs {
                                    crate::symbols::user(pid, pc);
                                }
                            }
                            Value::Addr {
                                addr,
                                pid: Some(pid),
                                ..
                            } => {
                                crate::symbols::user(pid, addr);
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
