//! The consumer: attach every loaded program, fire BEGIN, read records
//! until `exit()`, a signal or the traced command ends, fire END, and print
//! what is left — as dtrace(1)'s main loop does.

use super::buffers::UserTimer;
use super::decode;
pub use super::feed::AggregationFeed;
use super::instance::Instance;
use super::snapshot::{self};
use crate::attach::Link;
use crate::backend::Records;
use crate::model::aggregation;
use crate::sys::bpf::BpfMap;
use d_lang::codegen::{AggObj, MapRole};
use d_lang::ir::AggId;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a run failed after its programs were loaded.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A program could not be attached.
    #[error("{probe}: {reason}")]
    Attach {
        /// The probe.
        probe: String,
        /// Why.
        reason: String,
    },
    /// Reading maps or the ring buffer failed.
    #[error("{0}")]
    Read(String),
    /// Writing output failed.
    #[error("failed to write output: {0}")]
    Write(#[from] std::io::Error),
}

/// Count of SIGINT/SIGTERM received; the handler only increments it.
pub static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Route SIGINT and SIGTERM to [`SIGNALS`].
pub fn install_signal_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` only touches an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Output settings the consumer honours.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// `-q` / `quiet`.
    pub quiet: bool,
    /// `aggsortkey`, `aggsortrev`, `aggsortpos`, `aggsortkeypos`.
    pub sort: aggregation::AggSortOptions,
    /// `rawbytes`.
    pub rawbytes: bool,
    /// `specsize`: bytes one speculation may hold.
    pub specsize: u64,
    /// `-F` / `flowindent`.
    pub flowindent: bool,
    /// `droptags`: prefix drop reports with their DTrace tags.
    pub droptags: bool,
    /// `bufpolicy` and `bufsize`: what happens to records beyond the
    /// buffer's size.
    pub bufpolicy: BufPolicy,
    /// `bufsize` in bytes.
    pub bufsize: u64,
}

impl Default for OutputOptions {
    /// dtrace(1)'s defaults: 4 MiB buffers and speculations, switch policy.
    fn default() -> OutputOptions {
        OutputOptions {
            quiet: false,
            sort: aggregation::AggSortOptions::default(),
            rawbytes: false,
            specsize: 4 << 20,
            flowindent: false,
            droptags: false,
            bufpolicy: BufPolicy::default(),
            bufsize: 4 << 20,
        }
    }
}

/// DTrace's buffer policies, as the consumer applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BufPolicy {
    /// `switch`: records are printed as they arrive.
    #[default]
    Switch,
    /// `fill`: once `bufsize` bytes of records have arrived, tracing stops
    /// (END still runs).
    Fill,
    /// `ring`: only the newest `bufsize` bytes of records are kept, and
    /// printed when tracing ends.
    Ring,
}

/// Where the traced processes (`-c`/`-p`) are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    /// Running, or there are none.
    Running,
    /// One is held at its exit (see [`Session::run`]).
    Held,
    /// All have exited.
    Gone,
}

/// What ended the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `exit(n)` was called.
    Exit(i32),
    /// SIGINT or SIGTERM.
    Signal,
    /// The traced process (`-c`/`-p`) ended.
    TargetExited,
}

/// A running session.
pub struct Session<'o> {
    pub(super) instances: Vec<Instance>,
    pub(super) rings: Vec<Box<dyn Records>>,
    pub(super) timers: Vec<UserTimer>,
    pub(super) links: Vec<Link>,
    /// Each instance's record descriptions, shared so that decoding a
    /// record borrows them instead of copying them.
    pub(super) enablings: Vec<Rc<[d_lang::codegen::Enabling]>>,
    /// Tail-call tables and dispatcher programs of syscall dispatch.
    pub(super) _dispatch: Vec<(BpfMap, OwnedFd)>,
    pub(super) begin: Vec<(usize, usize)>,
    pub(super) end: Vec<(usize, usize)>,
    /// ERROR programs, fired by the consumer for each error record.
    pub(super) error: Vec<(usize, usize)>,
    pub(super) out: Box<dyn Write + 'o>,
    pub(super) err: Box<dyn Write + 'o>,
    pub(super) opts: OutputOptions,
    pub(super) header_done: bool,
    pub(super) exit: Option<i32>,
    /// Aggregations printed by printa (not printed again at the end).
    pub(super) printed: HashSet<(usize, AggId)>,
    pub(super) normalize: HashMap<(usize, AggId), i64>,
    pub(super) drops: HashMap<(usize, u32), u64>,
    /// Records diverted by speculate(id), per (instance, id), until commit or discard.
    pub(super) speculations: HashMap<(usize, u64), Vec<Vec<u8>>>,
    /// bufpolicy=ring: the newest records, and their total size.
    pub(super) ring: std::collections::VecDeque<(usize, Vec<u8>)>,
    pub(super) ring_bytes: u64,
    /// bufpolicy=fill: bytes of records taken so far.
    pub(super) filled: u64,
    /// Records are being replayed from the ring at the end.
    pub(super) replaying: bool,
    /// END has begun (fill no longer limits: DTrace reserves END's room).
    pub(super) ending: bool,
    /// Where output goes after freopen(path); `None`: the original output.
    pub(super) reopened: Option<std::fs::File>,
    /// -F state: the indent of entry/return pairs.
    pub(super) flow: crate::print::probe_line::FlowIndent,
    pub(super) spec_drops: u64,
    /// Where snapshots go when a metrics endpoint asks for them.
    pub(super) feed: Option<std::sync::Arc<AggregationFeed>>,
    /// A program's exit() stopped tracing in the kernel (its stop word is
    /// 2) before its record arrived: seen once, the next round without
    /// the record ends the run with status 0 (the record was lost).
    pub(super) stopped_by_program: bool,
}

impl<'o> Session<'o> {
    /// Where trace output goes now: the freopen() file or the original.
    pub(super) fn sink(&mut self) -> &mut dyn Write {
        match &mut self.reopened {
            Some(f) => f,
            None => &mut *self.out,
        }
    }

    /// Number of attached links (probes enabled).
    pub fn links(&self) -> usize {
        self.links.len()
    }

    /// Run BEGIN, END (raw tracepoint programs) or user-space timer
    /// programs once each, here.
    pub(super) fn fire(&mut self, progs: &[(usize, usize)]) -> Result<(), SessionError> {
        self.fire_with(progs, [0; 6])
    }

    /// [`Self::fire`] with these raw-tracepoint arguments.
    pub(super) fn fire_with(
        &mut self,
        progs: &[(usize, usize)],
        args: [u64; 6],
    ) -> Result<(), SessionError> {
        for &(ii, pi) in progs {
            self.instances[ii].programs[pi]
                .fire(args)
                .map_err(SessionError::Read)?;
        }
        Ok(())
    }

    /// Report a run-time error as dtrace(1) does, then fire ERROR (its
    /// records are handled after this one, as the kernel would queue them).
    pub(super) fn report_error(
        &mut self,
        ii: usize,
        e: decode::ErrorRecord,
    ) -> Result<(), SessionError> {
        let enablings = Rc::clone(&self.enablings[ii]);
        let Some(en) = e
            .epid
            .checked_sub(1)
            .and_then(|i| enablings.get(i as usize))
        else {
            writeln!(
                self.err,
                "dtrace: error record names unknown enabled probe ID {}",
                e.epid
            )?;
            return Ok(());
        };
        let fault = d_lang::codegen::Fault::from_code(e.fault).map_or_else(
            || format!("unknown fault {}", e.fault),
            |f| f.describe(e.addr),
        );
        // DTrace's statement ids count (clause x description) over all
        // of the run's programs, in compile order.
        let statement: u32 = self.instances[..ii]
            .iter()
            .map(|i| i.object.statements)
            .sum::<u32>()
            + en.statement;
        writeln!(
            self.err,
            "dtrace: error in dt_clause_{statement} for probe ID {} ({}): {fault} at BPF pc {}",
            en.probe.id,
            en.probe.full_name(),
            e.pc
        )?;
        let error = self
            .error
            .iter()
            .filter(|(i, _)| *i == ii)
            .copied()
            .collect::<Vec<_>>();
        if !error.is_empty() {
            // As DTrace's: the probe that faulted, the statement, the
            // pc, the fault and its value.
            self.fire_with(
                &error,
                [
                    0,
                    u64::from(en.probe.id),
                    u64::from(statement),
                    e.pc,
                    e.fault,
                    e.addr,
                ],
            )?;
        }
        Ok(())
    }

    /// Fire the user-space timers that are due; how long until the next.
    pub(super) fn fire_timers(&mut self) -> Result<Option<std::time::Duration>, SessionError> {
        if self.timers.is_empty() {
            return Ok(None);
        }
        let now = std::time::Instant::now();
        let mut due = Vec::new();
        for t in &mut self.timers {
            if t.next <= now {
                due.push(t.prog);
                t.next += t.period;
                // Fell far behind (the consumer was busy): skip missed ticks
                // rather than firing a burst, as a timer interrupt would.
                if t.next < now {
                    t.next = now + t.period;
                }
            }
        }
        self.fire(&due)?;
        let next = self.timers.iter().map(|t| t.next).min();
        Ok(next.map(|n| n.saturating_duration_since(std::time::Instant::now())))
    }

    /// Fire BEGIN and consume what it recorded.
    pub fn begin(&mut self) -> Result<(), SessionError> {
        self.fire(&self.begin.clone())?;
        self.drain()
    }

    /// Consume records until exit(), a signal, or `targets` says the
    /// traced processes ended; `poll_ms` is the longest wait between checks.
    /// `signals_at_start` is [`SIGNALS`] as read before BEGIN fired, so a
    /// signal that arrives while BEGIN runs still stops the run.
    ///
    /// `targets(false)` reports the traced processes; when one is held at
    /// its exit, its records are read and its user addresses named while
    /// it still exists, then `targets(true)` lets it finish exiting (its
    /// last events, such as `proc:::exit`, still arrive).
    pub fn run(
        &mut self,
        poll_ms: i32,
        signals_at_start: usize,
        mut targets: impl FnMut(bool) -> TargetStatus,
    ) -> Result<Stop, SessionError> {
        loop {
            if let Some(status) = self.exit {
                return Ok(Stop::Exit(status));
            }
            if SIGNALS.load(Ordering::SeqCst) > signals_at_start {
                return Ok(Stop::Signal);
            }
            match targets(false) {
                TargetStatus::Gone => {
                    self.drain()?;
                    return Ok(Stop::TargetExited);
                }
                TargetStatus::Held => {
                    self.drain()?;
                    self.presymbolize()?;
                    targets(true);
                }
                TargetStatus::Running => {}
            }
            self.step(poll_ms)?;
            if self.exit.is_none() && self.stopped_in_kernel() {
                if self.stopped_by_program {
                    self.exit = Some(0);
                }
                self.stopped_by_program = true;
            }
        }
    }

    /// Whether a program's exit() has set its stop word (2) in the kernel.
    fn stopped_in_kernel(&self) -> bool {
        self.instances.iter().any(|inst| {
            inst.object
                .maps
                .iter()
                .position(|m| m.role == MapRole::Control)
                .and_then(|ci| inst.maps[ci].lookup_vec(&0u32.to_ne_bytes()).ok().flatten())
                .is_some_and(|v| v.get(..8) == Some(&2u64.to_ne_bytes()[..]))
        })
    }

    /// One round of consuming: fire due timers (user backend), wait up to
    /// `poll_ms` for records and handle them, report drops. What `run`
    /// repeats; a live view calls it between its own work (0 ms: no wait).
    pub fn step(&mut self, poll_ms: i32) -> Result<(), SessionError> {
        let wait = self.fire_timers()?;
        let n = self.rings.len().max(1) as i32;
        // Records of the user-space backend arrive only when a timer
        // fires: wait no longer than until the next.
        let each = std::time::Duration::from_millis((poll_ms / n).max(0) as u64);
        let wait = wait.map_or(each, |w| w.min(each));
        for i in 0..self.rings.len() {
            let mut batch = Vec::new();
            self.rings[i]
                .poll(wait, &mut |b| batch.push(b.to_vec()))
                .map_err(SessionError::Read)?;
            for rec in batch {
                self.handle(i, &rec)?;
            }
        }
        self.report_drops()?;
        self.presymbolize()?;
        if let Some(feed) = self.feed.clone() {
            if feed.wanted() {
                feed.publish(self.aggregations()?);
            }
        }
        Ok(())
    }

    /// Every aggregation of every program as it is now, merged across
    /// CPUs: for live views and metrics (printing is `printa`'s and `end`'s).
    pub fn aggregations(&mut self) -> Result<Vec<aggregation::Aggregation>, SessionError> {
        let mut all = Vec::new();
        for ii in 0..self.instances.len() {
            let aggs: Vec<AggObj> = self.instances[ii].object.aggs.clone();
            for a in &aggs {
                all.push(self.snapshot(ii, a)?);
            }
        }
        Ok(all)
    }

    /// Empty every aggregation of every program (keys and values), as
    /// `trunc(@a)` of each would: for a live view reporting by interval.
    pub fn truncate_all(&mut self) -> Result<(), SessionError> {
        for ii in 0..self.instances.len() {
            let ids: Vec<AggId> = (0..self.instances[ii].object.aggs.len())
                .map(|i| AggId(i as u32))
                .collect();
            for id in ids {
                self.trunc(ii, id, None)?;
            }
        }
        Ok(())
    }

    /// Publish aggregation snapshots to `feed` whenever it asks (a metrics
    /// endpoint being scraped), from the consuming loop.
    pub fn set_feed(&mut self, feed: std::sync::Arc<AggregationFeed>) {
        self.feed = Some(feed);
    }

    /// The exit status `exit()` asked for, once it has.
    pub fn exit_requested(&self) -> Option<i32> {
        self.exit
    }

    /// Fire END, consume its records, then print the trailing newline and
    /// every aggregation printa has not printed, as dtrace(1) does at exit.
    pub fn end(&mut self) -> Result<(), SessionError> {
        // Stop every probe but END before END fires and aggregations are read.
        for inst in &self.instances {
            if let Some(ci) = inst
                .object
                .maps
                .iter()
                .position(|m| m.role == MapRole::Control)
            {
                inst.maps[ci]
                    .update(
                        &0u32.to_ne_bytes(),
                        &1u64.to_ne_bytes(),
                        crate::sys::bpf::UpdateFlags::Any,
                    )
                    .map_err(|e| SessionError::Read(e.to_string()))?;
            }
        }
        self.ending = true;
        self.fire(&self.end.clone())?;
        self.drain()?;
        if self.opts.bufpolicy == BufPolicy::Ring {
            // The ring is consumed only now, END's records with it.
            self.replaying = true;
            let ring = std::mem::take(&mut self.ring);
            for (ii, rec) in ring {
                self.handle(ii, &rec)?;
            }
            self.sink().flush()?;
        }
        self.report_drops()?;
        writeln!(self.sink())?;
        for ii in 0..self.instances.len() {
            let aggs: Vec<AggObj> = self.instances[ii].object.aggs.clone();
            let mut text = String::new();
            let mut all = Vec::new();
            for a in &aggs {
                if self.printed.contains(&(ii, a.id)) {
                    continue;
                }
                all.push(self.snapshot(ii, a)?);
            }
            crate::print::print_all(&all, &self.opts.sort, &mut text);
            self.sink().write_all(text.as_bytes())?;
        }
        self.sink().flush()?;
        Ok(())
    }

    /// What dtrace(1) writes on the first SIGINT: a newline.
    pub fn newline(&mut self) -> Result<(), SessionError> {
        writeln!(self.sink())?;
        Ok(())
    }

    /// The exit status `exit()` asked for, if it was called.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit
    }

    pub(super) fn drain(&mut self) -> Result<(), SessionError> {
        for i in 0..self.rings.len() {
            let mut batch = Vec::new();
            self.rings[i].drain(&mut |b| batch.push(b.to_vec()));
            for rec in batch {
                self.handle(i, &rec)?;
            }
        }
        self.sink().flush()?;
        Ok(())
    }

    pub(super) fn snapshot(
        &mut self,
        ii: usize,
        a: &AggObj,
    ) -> Result<aggregation::Aggregation, SessionError> {
        let map = &self.instances[ii].maps[a.map];
        let entries =
            snapshot::read(a, map.as_ref()).map_err(|e| SessionError::Read(e.to_string()))?;
        let factor = self.normalize.get(&(ii, a.id)).copied().unwrap_or(1);
        Ok(aggregation::Aggregation {
            name: a.name.clone(),
            id: a.id.0,
            func: a.func,
            key_names: a.key_names.clone(),
            normalization: factor.max(1) as u64,
            entries: entries
                .into_iter()
                .map(|(keys, m)| aggregation::AggEntry { keys, value: m })
                .collect(),
        })
    }
}
