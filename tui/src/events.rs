//! Everything that happens to the dashboard, as one enum the loop
//! receives from the input thread and the engine's thread; and the
//! commands the loop sends back to the engine's thread.

use crate::panels::storage::PoolListing;
use crate::panels::{PanelId, ZoneInfo};
use engine::model::aggregation::Aggregation;
use std::time::{Duration, Instant};

/// One thing that happened.
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(crossterm::event::KeyEvent),
    /// The mouse was clicked, moved or scrolled.
    Mouse(crossterm::event::MouseEvent),
    /// Text was pasted (bracketed paste).
    Paste(String),
    /// The terminal is now this many columns and rows.
    Resize(u16, u16),
    /// News from the engine's thread.
    Engine(EngineUpdate),
    /// The input could not be read any more (the terminal went away).
    InputClosed(String),
}

/// What the engine's thread reports.
#[derive(Debug)]
pub enum EngineUpdate {
    /// `panel`'s program (re)started at `at` from `source`: its data is
    /// tagged `generation` from now on.
    Started {
        /// Whose program.
        panel: PanelId,
        /// The data's new tag.
        generation: u64,
        /// When it started.
        at: Instant,
        /// What runs.
        source: String,
    },
    /// `panel`'s new program did not start; whatever ran before still
    /// runs. `error` is the compiler's diagnostic or the loader's message.
    StartFailed {
        /// Whose program.
        panel: PanelId,
        /// Why.
        error: String,
    },
    /// A refresh: every program's aggregations, read together.
    Snapshot(Snapshot),
}

/// One refresh's data.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the aggregations were read.
    pub at: Instant,
    /// How long reading them and the registry took (the engine's share
    /// of a refresh).
    pub gather: Duration,
    /// One entry per running program.
    pub programs: Vec<ProgramData>,
    /// The zones the registry listed at this refresh; `None` if it could
    /// not be read.
    pub zones: Option<Vec<ZoneInfo>>,
    /// The zones pool as the storage crate listed it at this refresh
    /// (`Unread` if it could not be read).
    pub pool: PoolListing,
}

impl Snapshot {
    /// Fold an older snapshot that was never shown (the view was frozen)
    /// into this one: its errors and output must not be lost.
    pub fn absorb_older(&mut self, older: Snapshot) {
        for old in older.programs {
            if let Some(p) = self.programs.iter_mut().find(|p| p.panel == old.panel) {
                p.errors = old.errors + &p.errors;
                p.output = old.output + &p.output;
            } else if !old.errors.is_empty() || !old.output.is_empty() {
                // A program gone since (replaced): keep its messages; its
                // aggregations are stale, and a generation no program has
                // keeps them from being shown.
                self.programs.push(ProgramData {
                    aggregations: Ok(Vec::new()),
                    generation: u64::MAX,
                    ..old
                });
            }
        }
        if self.zones.is_none() {
            self.zones = older.zones;
        }
        if self.pool == PoolListing::Unread {
            self.pool = older.pool;
        }
    }
}

/// One program's share of a snapshot.
#[derive(Debug, Clone)]
pub struct ProgramData {
    /// Whose.
    pub panel: PanelId,
    /// Which start of the panel's program.
    pub generation: u64,
    /// Its aggregations, or why they could not be read.
    pub aggregations: Result<Vec<Aggregation>, String>,
    /// What it printed (printf, trace, printa) since the last snapshot.
    pub output: String,
    /// Drops and run-time errors since the last snapshot.
    pub errors: String,
    /// Whether it has ended (called exit()).
    pub ended: bool,
}

/// What the loop asks of the engine's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Compile and start `source` as `panel`'s program. On success it
    /// replaces the running one; on failure the running one stays.
    Start {
        /// Whose program.
        panel: PanelId,
        /// The D source.
        source: String,
    },
    /// Read aggregations this often.
    SetInterval(Duration),
    /// Stop every program and end the thread.
    Quit,
}
