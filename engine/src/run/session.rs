//! The consumer: attach every loaded program, fire BEGIN, read records
//! until `exit()`, a signal or the traced command ends, fire END, and print
//! what is left — as dtrace(1)'s main loop does.

use super::decode::{self, Record};
use super::instance::{Instance, Program};
use super::map::Map;
use super::snapshot::{self, Merged};
use crate::attach::{self, Link};
use crate::print::aggregate;
use crate::print::printf::render;
use crate::print::trace::{trace, TraceStyle};
use crate::print::value::Value;
use crate::ringbuf::RingBuf;
use crate::sys::bpf::BpfMap;
use crate::target::Attachment;
use crate::tracefs::Tracefs;
use d_lang::codegen::{AggObj, Counter, MapRole, RecordKind};
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
    use d_lang::codegen::insn::{helper, reg::*, Insn, Size, PSEUDO_MAP_FD};
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
        let Program::Kernel(prog) = &inst.programs[*pi] else {
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
    let mut insns = Vec::new();
    insns.extend(Insn::ld_imm64(
        R2,
        PSEUDO_MAP_FD,
        table.as_fd().as_raw_fd() as u64,
    ));
    insns.push(Insn::ldx(Size::DW, R3, R1, 8)); // long id
    insns.push(Insn::call(TAIL_CALL));
    insns.push(Insn::mov64_imm(R0, 0));
    insns.push(Insn::exit());
    let _ = helper::MAP_LOOKUP_ELEM;
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

/// `bpf_tail_call`.
const TAIL_CALL: i32 = 12;

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
    pub sort: aggregate::AggSortOptions,
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
            sort: aggregate::AggSortOptions::default(),
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

/// Where an instance's records arrive.
enum Records {
    /// The kernel's ring buffer.
    Kernel(RingBuf),
    /// The user-space backend's queue.
    User(Rc<crate::user::map::UserMap>),
}

impl Records {
    /// Take what is there now.
    fn drain(&mut self, mut f: impl FnMut(&[u8])) {
        match self {
            Records::Kernel(r) => {
                r.drain(f);
            }
            Records::User(m) => m.ring_drain().iter().for_each(|b| f(b)),
        }
    }
}

/// A tick or profile probe of the user-space backend: the consumer fires it.
struct UserTimer {
    period: std::time::Duration,
    next: std::time::Instant,
    prog: (usize, usize),
}

/// A running session.
pub struct Session<'o> {
    instances: Vec<Instance>,
    rings: Vec<Records>,
    timers: Vec<UserTimer>,
    links: Vec<Link>,
    /// Each instance's record descriptions, shared so that decoding a
    /// record borrows them instead of copying them.
    enablings: Vec<Rc<[d_lang::codegen::Enabling]>>,
    /// Tail-call tables and dispatcher programs of syscall dispatch.
    _dispatch: Vec<(BpfMap, OwnedFd)>,
    begin: Vec<(usize, usize)>,
    end: Vec<(usize, usize)>,
    /// ERROR programs, fired by the consumer for each error record.
    error: Vec<(usize, usize)>,
    out: Box<dyn Write + 'o>,
    err: Box<dyn Write + 'o>,
    opts: OutputOptions,
    header_done: bool,
    exit: Option<i32>,
    /// Aggregations printed by printa (not printed again at the end).
    printed: HashSet<(usize, AggId)>,
    normalize: HashMap<(usize, AggId), i64>,
    drops: HashMap<(usize, u32), u64>,
    /// Records diverted by speculate(id), per (instance, id), until commit or discard.
    speculations: HashMap<(usize, u64), Vec<Vec<u8>>>,
    /// bufpolicy=ring: the newest records, and their total size.
    ring: std::collections::VecDeque<(usize, Vec<u8>)>,
    ring_bytes: u64,
    /// bufpolicy=fill: bytes of records taken so far.
    filled: u64,
    /// Records are being replayed from the ring at the end.
    replaying: bool,
    /// END has begun (fill no longer limits: DTrace reserves END's room).
    ending: bool,
    /// Where output goes after freopen(path); `None`: the original output.
    reopened: Option<std::fs::File>,
    /// -F state: the indent of entry/return pairs.
    flow: crate::print::probe_line::FlowIndent,
    spec_drops: u64,
    /// Where snapshots go when a metrics endpoint asks for them.
    feed: Option<std::sync::Arc<AggregationFeed>>,
}

/// Aggregation snapshots handed from the consuming loop to another thread
/// (a metrics endpoint): the reader asks, the loop publishes at its next
/// round, the reader waits for that. BPF maps stay with the loop's thread.
#[derive(Default)]
pub struct AggregationFeed {
    latest: std::sync::Mutex<Option<(u64, Vec<aggregate::Aggregation>)>>,
    published: std::sync::Condvar,
    wanted: std::sync::atomic::AtomicBool,
}

impl AggregationFeed {
    /// A feed nobody has asked anything of yet.
    pub fn new() -> AggregationFeed {
        AggregationFeed::default()
    }

    fn wanted(&self) -> bool {
        self.wanted.swap(false, Ordering::SeqCst)
    }

    fn publish(&self, aggs: Vec<aggregate::Aggregation>) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let generation = latest.as_ref().map_or(0, |(g, _)| g + 1);
        *latest = Some((generation, aggs));
        self.published.notify_all();
    }

    /// Ask for a fresh snapshot and wait up to `timeout` for it; the last
    /// one published if none comes in time (the loop is busy or has ended).
    pub fn snapshot(&self, timeout: std::time::Duration) -> Option<Vec<aggregate::Aggregation>> {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        let before = latest.as_ref().map(|(g, _)| *g);
        self.wanted.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if latest.as_ref().map(|(g, _)| *g) != before {
                break;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                break;
            }
            latest = self
                .published
                .wait_timeout(latest, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        latest.as_ref().map(|(_, a)| a.clone())
    }

    /// Publish `aggs` from outside a session (the final state at the end of
    /// a run, or a test).
    pub fn publish_final(&self, aggs: Vec<aggregate::Aggregation>) {
        self.publish(aggs);
    }
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
            match ring_map.and_then(|i| inst.maps.get(i)) {
                Some(Map::Kernel(r)) => {
                    use std::os::fd::AsFd;
                    rings.push(Records::Kernel(
                        RingBuf::new(r.as_fd()).map_err(|e| SessionError::Read(e.to_string()))?,
                    ));
                }
                Some(Map::User(m)) => rings.push(Records::User(Rc::clone(m))),
                None => {}
            }
            if inst.backend == super::Backend::User {
                for (pi, att) in atts.iter().enumerate() {
                    match att {
                        Attachment::Timer { period_ns, .. } => timers.push(UserTimer {
                            period: std::time::Duration::from_nanos(*period_ns),
                            next: std::time::Instant::now()
                                + std::time::Duration::from_nanos(*period_ns),
                            prog: (ii, pi),
                        }),
                        Attachment::SelfProbe("lumen_dtrace_begin") => begin.push((ii, pi)),
                        Attachment::SelfProbe("lumen_dtrace_end") => end.push((ii, pi)),
                        Attachment::SelfProbe("lumen_dtrace_error") => error.push((ii, pi)),
                        Attachment::SelfProbe(_) => {}
                        Attachment::Tracepoint(_)
                        | Attachment::Trampoline { .. }
                        | Attachment::Usdt(_)
                        | Attachment::Pid(_) => {
                            return Err(SessionError::Attach {
                                probe: inst.object.programs[pi].probe.full_name(),
                                reason: "the user-space backend runs only BEGIN, END, ERROR, \
                                         tick and profile probes"
                                    .into(),
                            })
                        }
                    }
                }
                continue;
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
                if calls.len() < DISPATCH_THRESHOLD {
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
                use std::os::fd::AsFd;
                if dispatched.contains(&pi) {
                    continue;
                }
                let Program::Kernel(prog) = prog else {
                    continue;
                };
                let probe = inst.object.programs[pi].probe.full_name();
                let fail = |reason: String| SessionError::Attach {
                    probe: probe.clone(),
                    reason,
                };
                let link = match att {
                    Attachment::Tracepoint(ev) => {
                        let tracefs =
                            tracefs.ok_or_else(|| fail("tracefs is not available".into()))?;
                        attach::attach_tracepoint_in(
                            tracefs,
                            prog.as_fd(),
                            &ev.subsystem,
                            &ev.event,
                        )
                        .map_err(|e| fail(e.to_string()))?
                    }
                    Attachment::Timer {
                        period_ns,
                        all_cpus,
                    } => {
                        let cpus = attach::profile_cpus().map_err(|e| fail(e.to_string()))?;
                        let cpus = if *all_cpus {
                            cpus
                        } else {
                            cpus.into_iter().take(1).collect()
                        };
                        attach::attach_cpu_clock(prog.as_fd(), *period_ns, &cpus)
                            .map_err(|e| fail(e.to_string()))?
                    }
                    Attachment::Pid(site) => attach::attach_uprobe(
                        prog.as_fd(),
                        &site.path,
                        site.offset,
                        site.ret,
                        Some(site.pid as i32),
                    )
                    .map_err(|e| fail(e.to_string()))?,
                    Attachment::Usdt(sites) => {
                        let Some((last, rest)) = sites.split_last() else {
                            return Err(fail("the probe has no site".into()));
                        };
                        let uprobe = |site: &crate::providers::usdt::Site| {
                            attach::attach_uprobe_counted(
                                prog.as_fd(),
                                &site.probe.path,
                                site.probe.offset,
                                site.probe.semaphore,
                                false,
                                Some(site.pid as i32),
                            )
                            .map_err(|e| fail(e.to_string()))
                        };
                        for site in rest {
                            links.push(uprobe(site)?);
                        }
                        uprobe(last)?
                    }
                    Attachment::Trampoline { .. } => {
                        attach::attach_trampoline(prog.as_fd(), &probe)
                            .map_err(|e| fail(e.to_string()))?
                    }
                    Attachment::SelfProbe(sym) => {
                        // BEGIN and END run when the consumer test-runs them.
                        match *sym {
                            "lumen_dtrace_begin" => begin.push((ii, pi)),
                            "lumen_dtrace_end" => end.push((ii, pi)),
                            "lumen_dtrace_error" => error.push((ii, pi)),
                            _ => {}
                        }
                        continue;
                    }
                };
                links.push(link);
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
            spec_drops: 0,
            feed: None,
        })
    }

    /// Where trace output goes now: the freopen() file or the original.
    fn sink(&mut self) -> &mut dyn Write {
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
    fn fire(&mut self, progs: &[(usize, usize)]) -> Result<(), SessionError> {
        self.fire_with(progs, [0; 6])
    }

    /// [`Self::fire`] with these raw-tracepoint arguments.
    fn fire_with(&mut self, progs: &[(usize, usize)], args: [u64; 6]) -> Result<(), SessionError> {
        use std::os::fd::AsFd;
        for &(ii, pi) in progs {
            match &self.instances[ii].programs[pi] {
                Program::Kernel(fd) => {
                    crate::sys::bpf::prog_test_run(fd.as_fd(), &args)
                        .map_err(|e| SessionError::Read(e.to_string()))?;
                }
                Program::User(p) => {
                    // Room for any context a program reads (raw tracepoint
                    // args or perf-event registers); zero past the args.
                    let mut ctx = [0u8; 256];
                    for (i, a) in args.iter().enumerate() {
                        ctx[i * 8..i * 8 + 8].copy_from_slice(&a.to_ne_bytes());
                    }
                    p.run(&mut ctx)
                        .map_err(|e| SessionError::Read(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    /// Report a run-time error as dtrace(1) does, then fire ERROR (its
    /// records are handled after this one, as the kernel would queue them).
    fn report_error(&mut self, ii: usize, e: decode::ErrorRecord) -> Result<(), SessionError> {
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
        let place = if e.action == 0 {
            "predicate".to_string()
        } else {
            format!("action #{}", e.action)
        };
        writeln!(
            self.err,
            "dtrace: error on enabled probe ID {} (ID {}: {}): {fault} in {place} at BPF pc {}",
            e.epid,
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
            self.fire_with(&error, [0, e.epid as u64, e.action, e.pc, e.fault, e.addr])?;
        }
        Ok(())
    }

    /// Fire the user-space timers that are due; how long until the next.
    fn fire_timers(&mut self) -> Result<Option<std::time::Duration>, SessionError> {
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
        }
    }

    /// One round of consuming: fire due timers (user backend), wait up to
    /// `poll_ms` for records and handle them, report drops. What `run`
    /// repeats; a live view calls it between its own work (0 ms: no wait).
    pub fn step(&mut self, poll_ms: i32) -> Result<(), SessionError> {
        let wait = self.fire_timers()?;
        let n = self.rings.len().max(1) as i32;
        for i in 0..self.rings.len() {
            let mut batch = Vec::new();
            match &mut self.rings[i] {
                Records::Kernel(r) => {
                    r.poll(poll_ms / n, |b| batch.push(b.to_vec()))
                        .map_err(|e| SessionError::Read(e.to_string()))?;
                }
                Records::User(m) => {
                    // Nothing arrives between timer firings: sleep until the next.
                    let ms = std::time::Duration::from_millis((poll_ms / n).max(0) as u64);
                    std::thread::sleep(wait.map_or(ms, |w| w.min(ms)));
                    batch.extend(m.ring_drain());
                }
            }
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
    pub fn aggregations(&mut self) -> Result<Vec<aggregate::Aggregation>, SessionError> {
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

    /// Look up the user addresses in aggregation keys now, while their
    /// processes live: by the time the aggregation prints, they may have
    /// exited and their mappings be gone (the results are cached).
    fn presymbolize(&mut self) -> Result<(), SessionError> {
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
                let entries =
                    snapshot::read(a, map).map_err(|e| SessionError::Read(e.to_string()))?;
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

    fn drain(&mut self) -> Result<(), SessionError> {
        for i in 0..self.rings.len() {
            let mut batch = Vec::new();
            self.rings[i].drain(|b| batch.push(b.to_vec()));
            for rec in batch {
                self.handle(i, &rec)?;
            }
        }
        self.sink().flush()?;
        Ok(())
    }

    fn snapshot(&mut self, ii: usize, a: &AggObj) -> Result<aggregate::Aggregation, SessionError> {
        let map = &self.instances[ii].maps[a.map];
        let entries = snapshot::read(a, map).map_err(|e| SessionError::Read(e.to_string()))?;
        let factor = self.normalize.get(&(ii, a.id)).copied().unwrap_or(1);
        Ok(aggregate::Aggregation {
            name: a.name.clone(),
            id: a.id.0,
            func: a.func,
            key_names: a.key_names.clone(),
            normalization: factor.max(1) as u64,
            entries: entries
                .into_iter()
                .map(|(keys, m)| aggregate::AggEntry { keys, value: m })
                .collect(),
        })
    }

    fn handle(&mut self, ii: usize, bytes: &[u8]) -> Result<(), SessionError> {
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

    fn print_record(&mut self, ii: usize, rec: &Record<'_>) -> Result<(), SessionError> {
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
                    if self.exit.is_none() {
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
    fn clear(&mut self, ii: usize, id: AggId, _delete: bool) -> Result<(), SessionError> {
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
    fn trunc(&mut self, ii: usize, id: AggId, n: Option<i64>) -> Result<(), SessionError> {
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
        let entries = snapshot::read(&a, map).map_err(|e| SessionError::Read(e.to_string()))?;
        let keep: HashSet<Vec<Value>> = match n {
            None | Some(0) => HashSet::new(),
            Some(n) => {
                let mut sorted: Vec<(Vec<Value>, Merged)> = entries;
                let func = a.func;
                sorted.sort_by(|x, y| aggregate::value_cmp(&func, &x.1.clone(), &y.1.clone()));
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

    /// Report new drops, in DTrace's words.
    fn report_drops(&mut self) -> Result<(), SessionError> {
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
                            _ => "DTRACEDROP_SPECBUSY",
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
