//! `lumen top`: live dashboards whose every panel is a D script run by the
//! engine, so what a panel shows is what a user could have typed — and
//! can open (`e`), edit and re-run.
//!
//! In: the panels' D sources ([`scripts`], `tui/panels/*.d`), the user's
//! keys and mouse, the zone registry (through a callback from the `lumen`
//! binary, which calls [`run`]). Out: a terminal UI. In DESIGN.md's flow
//! this sits beside `lumen dtrace` on top of the engine: D source →
//! [`engine::live::LiveProgram`] (compiled, attached) → aggregations →
//! panels.
//!
//! Read in this order: [`events`] (what happens) → [`collector`] (the
//! engine's thread: programs, snapshots) → [`app`] (state, what each event
//! does) → [`rates`] and [`latency`] (numbers from snapshots) →
//! [`panels`] (one file per panel) → [`draw`] (a frame), with [`layout`],
//! [`widgets`], [`keymap`], [`theme`] beside.

#![warn(missing_docs)]

pub mod app;
pub mod collector;
pub mod draw;
pub mod error;
pub mod events;
pub mod format;
pub mod keymap;
pub mod latency;
pub mod layout;
pub mod metrics;
pub mod panels;
pub mod program;
pub mod rates;
pub mod scripts;
pub mod terminal;
pub mod theme;
pub mod timing;
pub mod widgets;

#[cfg(test)]
mod test_utils;

pub use collector::{PoolSource, ZoneSource};
pub use error::TuiError;
pub use metrics::MetricsStore;
pub use panels::storage::{DatasetInfo, PoolInfo, PoolListing};
pub use panels::ZoneInfo;
pub use timing::Timing;

use app::{App, AppConfig};
use collector::Collector;
use events::{EngineUpdate, Event};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The screen size of a headless run.
pub const HEADLESS_SIZE: Rect = Rect {
    x: 0,
    y: 0,
    width: 160,
    height: 48,
};

/// How to run the dashboard.
pub struct Options {
    /// The refresh interval.
    pub interval: Duration,
    /// Colours (false: `--no-color` or `NO_COLOR`).
    pub color: bool,
    /// Run this long without a terminal, drawing into a screen of
    /// [`HEADLESS_SIZE`] written to /dev/null: the benchmark's mode.
    pub headless: Option<Duration>,
    /// Names of KVM exit reasons.
    pub exit_reason: fn(u32) -> &'static str,
    /// Reads the zone registry.
    pub zones: ZoneSource,
    /// Lists the zones pool.
    pub pool: PoolSource,
    /// `--metrics`: where each refresh's aggregations are published, and
    /// the address the footer shows.
    pub metrics: Option<(MetricsStore, String)>,
}

/// Run the dashboard until the user quits (or the headless time is up);
/// the refreshes' timing.
pub fn run(opts: Options) -> Result<Timing, TuiError> {
    let (tx, rx) = mpsc::channel();
    let (store, metrics_addr) = match opts.metrics {
        Some((s, a)) => (Some(s), Some(a)),
        None => (None, None),
    };
    let collector = Collector::spawn(tx.clone(), opts.zones, opts.pool, store)?;
    let ncpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let config = |size: Rect| AppConfig {
        theme: theme::Theme { color: opts.color },
        interval: opts.interval,
        exit_reason: opts.exit_reason,
        ncpus,
        size,
        metrics: metrics_addr.clone(),
    };
    let result = match opts.headless {
        Some(d) => {
            let backend = CrosstermBackend::new(std::fs::File::create("/dev/null")?);
            let mut term = Terminal::with_options(
                backend,
                TerminalOptions {
                    viewport: Viewport::Fixed(HEADLESS_SIZE),
                },
            )?;
            let mut app = App::new(config(HEADLESS_SIZE));
            event_loop(
                &mut term,
                &mut app,
                &collector,
                &rx,
                Some(Instant::now() + d),
            )
        }
        None => {
            let mut term = terminal::enter()?;
            let size = term.size().map(|s| Rect::new(0, 0, s.width, s.height));
            let result = match size {
                Ok(size) => {
                    spawn_input(tx);
                    let mut app = App::new(config(size));
                    event_loop(&mut term, &mut app, &collector, &rx, None)
                }
                Err(e) => Err(e.into()),
            };
            terminal::leave(term)?;
            result
        }
    };
    collector.quit()?;
    result
}

/// Read the terminal's events on a thread of their own (the read blocks),
/// forwarding them to the loop.
fn spawn_input(tx: mpsc::Sender<Event>) {
    use crossterm::event::{read, Event as Ct};
    let _ = std::thread::Builder::new()
        .name("lumen-top-input".into())
        .spawn(move || loop {
            let ev = match read() {
                Ok(Ct::Key(k)) => Event::Key(k),
                Ok(Ct::Mouse(m)) => Event::Mouse(m),
                Ok(Ct::Paste(s)) => Event::Paste(s),
                Ok(Ct::Resize(w, h)) => Event::Resize(w, h),
                Ok(_) => continue,
                Err(e) => {
                    let _ = tx.send(Event::InputClosed(e.to_string()));
                    return;
                }
            };
            if tx.send(ev).is_err() {
                return;
            }
        });
}

/// The loop: wait for an event, apply it, draw. Nothing happens between
/// events: a frame is drawn only after input or a refresh.
fn event_loop<B: Backend>(
    term: &mut Terminal<B>,
    app: &mut App,
    collector: &Collector,
    rx: &Receiver<Event>,
    deadline: Option<Instant>,
) -> Result<Timing, TuiError> {
    let mut timing = Timing::default();
    for c in app.start() {
        collector.send(c);
    }
    term.draw(|f| draw::frame(f, app))?;
    loop {
        let event = match deadline {
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(TuiError::Collector("the engine's thread stopped".into()))
                }
            },
            None => rx
                .recv()
                .map_err(|_| TuiError::Collector("the engine's thread stopped".into()))?,
        };
        let t0 = Instant::now();
        // A refresh's cost: the engine's reading, then from here to a
        // drawn frame.
        let mut gather = None;
        let mut next = Some(event);
        // Apply everything already queued, then draw once.
        while let Some(ev) = next {
            if let Event::Engine(EngineUpdate::Snapshot(s)) = &ev {
                gather = Some(s.gather);
            }
            for c in app.handle(ev) {
                collector.send(c);
            }
            if app.should_quit() {
                return Ok(timing);
            }
            next = rx.try_recv().ok();
        }
        term.draw(|f| draw::frame(f, app))?;
        if let Some(g) = gather {
            timing.record(g, t0.elapsed());
        }
    }
    Ok(timing)
}
