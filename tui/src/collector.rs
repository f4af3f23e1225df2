//! The engine's thread: it owns every panel's [`LiveProgram`] (a BPF
//! session stays on the thread that made it), steps them with 0 ms polls
//! every [`STEP`], and once per refresh interval reads all their
//! aggregations together, then the zone registry, and sends them to the
//! UI as one [`Snapshot`]. It starts (and replaces) programs when asked;
//! a program that fails to start leaves the one before it running.

use crate::error::TuiError;
use crate::events::{Command, EngineUpdate, Event, ProgramData, Snapshot};
use crate::metrics::MetricsStore;
use crate::panels::storage::PoolListing;
use crate::panels::{PanelId, ZoneInfo};
use engine::live::LiveProgram;
use engine::LiveCatalog;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often programs consume their ring buffers (printf output, the
/// records of clear()/trunc() in tick probes, drop counts): dtrace(1)'s
/// default switchrate is 1 s; ten times that keeps a chatty console
/// script from overflowing its buffer, for a few syscalls per program.
pub const STEP: Duration = Duration::from_millis(100);

/// Reads the zone registry (the `lumen` binary supplies it): every zone,
/// or `None` if it could not be read this time (the last list then
/// stands). Called once per refresh, right after the aggregations are
/// read, so the rows shown are never more than a refresh behind the
/// zones that run.
pub type ZoneSource = Box<dyn FnMut() -> Option<Vec<ZoneInfo>> + Send>;

/// Lists the zones pool's datasets and devices (the `lumen` binary
/// supplies it, from the storage crate), once per refresh as the zones
/// are; `Unread` if it could not be read this time (the last listing
/// then stands).
pub type PoolSource = Box<dyn FnMut() -> PoolListing + Send>;

/// The engine's thread, and the way to talk to it.
pub struct Collector {
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    /// Start the thread; it reports to `events`, and publishes each
    /// refresh to `metrics` if given.
    pub fn spawn(
        events: Sender<Event>,
        zones: ZoneSource,
        pool: PoolSource,
        metrics: Option<MetricsStore>,
    ) -> Result<Collector, TuiError> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("lumen-top-engine".into())
            .spawn(move || run(rx, events, zones, pool, metrics))
            .map_err(|e| TuiError::Collector(e.to_string()))?;
        Ok(Collector {
            commands: tx,
            thread: Some(thread),
        })
    }

    /// Ask the thread to do `cmd`.
    pub fn send(&self, cmd: Command) {
        // A dead thread has already reported (or the UI is leaving).
        let _ = self.commands.send(cmd);
    }

    /// Stop every program and wait for the thread.
    pub fn quit(mut self) -> Result<(), TuiError> {
        self.send(Command::Quit);
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| TuiError::Collector("the engine's thread panicked".into())),
            None => Ok(()),
        }
    }
}

/// One running program.
struct Running {
    panel: PanelId,
    generation: u64,
    program: LiveProgram,
    /// Errors from stepping, not yet reported.
    step_errors: String,
    last_step_error: Option<String>,
}

fn run(
    commands: Receiver<Command>,
    events: Sender<Event>,
    mut zones: ZoneSource,
    mut pool: PoolSource,
    metrics: Option<MetricsStore>,
) {
    let catalog = LiveCatalog::open();
    let mut programs: Vec<Running> = Vec::new();
    let mut generation = 0u64;
    let mut interval = Duration::from_secs(1);
    let mut next_refresh = Instant::now() + interval;
    let mut next_step = Instant::now() + STEP;
    let send = |u: EngineUpdate| events.send(Event::Engine(u)).is_ok();
    loop {
        let wait = next_refresh
            .min(next_step)
            .saturating_duration_since(Instant::now());
        match commands.recv_timeout(wait) {
            Ok(Command::Start { panel, source }) => {
                match LiveProgram::start(panel.file(), &source, &catalog) {
                    Ok(program) => {
                        generation += 1;
                        let at = Instant::now();
                        // The old program is dropped (detached) only now
                        // that the new one runs.
                        programs.retain(|r| r.panel != panel);
                        programs.push(Running {
                            panel,
                            generation,
                            program,
                            step_errors: String::new(),
                            last_step_error: None,
                        });
                        if !send(EngineUpdate::Started {
                            panel,
                            generation,
                            at,
                            source,
                        }) {
                            break;
                        }
                    }
                    Err(e) => {
                        if !send(EngineUpdate::StartFailed {
                            panel,
                            error: e.to_string(),
                        }) {
                            break;
                        }
                    }
                }
            }
            Ok(Command::SetInterval(d)) => {
                interval = d;
                next_refresh = Instant::now() + d;
            }
            Ok(Command::Quit) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if now >= next_step {
            for r in &mut programs {
                if let Err(e) = r.program.step(0) {
                    // The same failure every 100 ms is one message.
                    let msg = e.to_string();
                    if r.last_step_error.as_deref() != Some(&msg) {
                        r.step_errors.push_str(&msg);
                        r.step_errors.push('\n');
                        r.last_step_error = Some(msg);
                    }
                }
            }
            next_step = now + STEP;
        }
        if now >= next_refresh {
            let t = Instant::now();
            let data = programs
                .iter_mut()
                .map(|r| ProgramData {
                    panel: r.panel,
                    generation: r.generation,
                    aggregations: r.program.aggregations().map_err(|e| e.to_string()),
                    output: r.program.take_output(),
                    errors: std::mem::take(&mut r.step_errors) + &r.program.take_errors(),
                    ended: r.program.ended(),
                })
                .collect::<Vec<_>>();
            if let Some(store) = &metrics {
                store.publish(
                    data.iter()
                        .filter_map(|d| {
                            let aggs = d.aggregations.as_ref().ok()?;
                            Some((d.panel.file().to_string(), aggs.clone()))
                        })
                        .collect(),
                );
            }
            // Read with the aggregations, and counted in the refresh's cost.
            let zone_list = zones();
            let pool = pool();
            let snapshot = Snapshot {
                at: t,
                gather: t.elapsed(),
                programs: data,
                zones: zone_list,
                pool,
            };
            if !send(EngineUpdate::Snapshot(snapshot)) {
                break;
            }
            // No burst to catch up after a slow round: the next refresh
            // is then an interval from now.
            next_refresh += interval;
            if next_refresh <= now {
                next_refresh = now + interval;
            }
        }
    }
    // Detach everything before the thread ends.
    drop(programs);
}
