//! What the table panels (Zones, VMs, Processes) have in common.
//!
//! Why this exists: the three panels differ only in how they turn a
//! refresh interval into rows, what their frame says beside the interval
//! and what an empty table says (and the Zones panel's histogram beside its
//! table). Everything else — the state they keep, the [`Panel`] plumbing,
//! taking the difference between snapshots, the frame, status line,
//! compile errors and where the rows are — was written out once per panel;
//! it is written once here, and each panel implements [`TablePanel`] with
//! just what is its own.

use super::{draw_failure, frame, inner_areas, title, Context, Panel, PanelId};
use crate::format;
use crate::latency::{Edge, Layout};
use crate::program::{ProgramState, Status};
use crate::rates::{DeltaTracker, Interval};
use crate::theme::Theme;
use crate::widgets::status;
use crate::widgets::table::{self, Cell, Column, Row, TableState};
use engine::model::aggregation::Aggregation;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::time::Instant;

/// A table panel whose only state is the shared [`TablePanelState`]: its
/// struct, `new` (the program not started yet) and `Default`. The panel's
/// own file keeps what is its own: columns, rows, `TablePanel`.
macro_rules! state_only_panel {
    ($(#[$doc:meta])* $name:ident, $id:expr, $columns:expr, $sort:expr) => {
        $(#[$doc])*
        pub struct $name {
            state: $crate::panels::table_panel::TablePanelState,
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl $name {
            /// The panel, its program not started yet.
            pub fn new() -> $name {
                $name {
                    state: $crate::panels::table_panel::TablePanelState::new($id, $columns, $sort),
                }
            }
        }
    };
}
pub(crate) use state_only_panel;

/// The state every table panel keeps.
pub struct TablePanelState {
    /// Its program.
    pub program: ProgramState,
    /// Its rows, selection, sort and filter.
    pub table: TableState,
    /// The last snapshot, to take the next interval's difference from.
    pub tracker: DeltaTracker,
    /// The last interval's length, once there is one.
    pub seconds: Option<f64>,
}

impl TablePanelState {
    /// Panel `id`'s state, its program not started yet, its table of
    /// `columns` sorted by column `sort`.
    pub fn new(id: PanelId, columns: &'static [Column], sort: usize) -> TablePanelState {
        TablePanelState {
            program: ProgramState::new(id.file(), id.default_source()),
            table: TableState::new(columns, sort),
            tracker: DeltaTracker::default(),
            seconds: None,
        }
    }
}

/// A panel that shows its program's data as a table, one refresh interval
/// at a time. Implementing it makes the type a [`Panel`].
pub trait TablePanel {
    /// Which panel it is.
    const ID: PanelId;
    /// What the empty table says once an interval has come and had no rows.
    const NO_ROWS: &'static str;

    /// Its shared state.
    fn state(&self) -> &TablePanelState;
    /// Its shared state, to update.
    fn state_mut(&mut self) -> &mut TablePanelState;

    /// The rows for `interval` (and whatever else the panel keeps of it).
    fn interval_rows(&mut self, interval: &Interval, ctx: &Context) -> Vec<Row>;

    /// What the frame says on the right once an interval of `seconds` has
    /// been shown.
    fn info(&self, seconds: f64) -> String {
        format!("last {seconds:.1}s")
    }

    /// Split the body into the table's area and, if the panel draws
    /// something beside its table, that area.
    fn split(&self, body: Rect) -> (Rect, Option<Rect>) {
        (body, None)
    }

    /// Draw what goes beside the table in `area` (from [`Self::split`]).
    fn draw_beside(&self, _area: Rect, _buf: &mut Buffer, _theme: &Theme) {}
}

impl<P: TablePanel> Panel for P {
    fn id(&self) -> PanelId {
        P::ID
    }

    fn program(&self) -> &ProgramState {
        &self.state().program
    }

    fn program_mut(&mut self) -> &mut ProgramState {
        &mut self.state_mut().program
    }

    fn table(&self) -> Option<&TableState> {
        Some(&self.state().table)
    }

    fn table_mut(&mut self) -> Option<&mut TableState> {
        Some(&mut self.state_mut().table)
    }

    fn restart(&mut self, generation: u64, at: Instant) {
        self.state_mut().tracker.restart(generation, at);
    }

    fn ingest(&mut self, aggs: &[Aggregation], _output: &str, at: Instant, ctx: &Context) {
        let state = self.state_mut();
        let Some(interval) = state.tracker.advance(state.program.generation, aggs, at) else {
            return;
        };
        let rows = self.interval_rows(&interval, ctx);
        let state = self.state_mut();
        state.table.set_rows(rows);
        state.seconds = Some(interval.seconds);
    }

    fn draw(&self, area: Rect, buf: &mut Buffer, theme: &Theme, focused: bool) {
        let state = self.state();
        let info = match state.seconds {
            Some(s) => self.info(s),
            None => String::new(),
        };
        let (body, status_area) = frame(
            area,
            buf,
            &title(P::ID, Some(&state.table)),
            &info,
            theme,
            focused,
        );
        status::draw(&state.program, status_area, buf, theme);
        if draw_failure(&state.program, body, buf, theme) {
            return;
        }
        let (table_area, beside) = self.split(body);
        let empty = match (&state.program.status, state.seconds) {
            (Status::Running, None) => "waiting for the first refresh…",
            (Status::Running | Status::Ended, Some(_)) => P::NO_ROWS,
            _ => "starting…",
        };
        table::draw(&state.table, table_area, buf, theme, focused, empty);
        if let Some(beside) = beside {
            self.draw_beside(beside, buf, theme);
        }
    }

    fn rows_area(&self, area: Rect) -> Option<Rect> {
        let (body, _) = inner_areas(area);
        let (t, _) = self.split(body);
        Some(Rect {
            y: t.y + 1,
            height: t.height.saturating_sub(1),
            ..t
        })
    }
}

/// Add the bucket counts `b` (of an aggregation laid out as `layout`) into
/// a row's distribution `sum`, started empty: several entries go into one
/// row when an edited script adds keys.
pub fn add_buckets(sum: &mut Option<(Layout, Vec<i64>)>, layout: &Layout, b: &[i64]) {
    let (_, sum) = sum.get_or_insert_with(|| (layout.clone(), vec![0; b.len()]));
    if sum.len() < b.len() {
        sum.resize(b.len(), 0);
    }
    for (s, c) in sum.iter_mut().zip(b) {
        *s += c;
    }
}

/// A latency column's cell: the percentile's bucket edge, or `-` (sorted
/// below every time) when there were no calls.
pub fn edge_cell(edge: Option<Edge>) -> Cell {
    match edge {
        Some(e) => Cell::num(e.text(format::nanos), e.sort_value()),
        None => Cell::num("-", -1.0),
    }
}
