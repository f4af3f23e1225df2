//! The panels: one file each, holding its state, how it turns its D
//! program's aggregations into rows, and how it draws (`draw(&self)`).
//! What they share — identity, the frame, the zone names — is here; what
//! the table panels share besides is in [`table_panel`].

pub mod console;
pub mod network;
pub mod procs;
pub mod storage;
pub mod table_panel;
pub mod vms;
pub mod zones;

use crate::program::{ProgramState, Status};
use crate::theme::Theme;
use crate::widgets::table::TableState;
use engine::model::aggregation::Aggregation;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use std::collections::HashMap;
use std::time::Instant;

/// Which panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelId {
    /// Per-zone CPU, system calls and their latency.
    Zones,
    /// VM exits.
    Vms,
    /// Processes on CPU.
    Procs,
    /// Traffic per zone and vNIC.
    Network,
    /// Block I/O per zone, space per dataset.
    Storage,
    /// The user's own D.
    Console,
}

impl PanelId {
    /// Every panel, in Tab order.
    pub const ALL: [PanelId; 6] = [
        PanelId::Zones,
        PanelId::Vms,
        PanelId::Procs,
        PanelId::Storage,
        PanelId::Network,
        PanelId::Console,
    ];

    /// The panel's title.
    pub fn name(self) -> &'static str {
        match self {
            PanelId::Zones => "Zones",
            PanelId::Vms => "VMs",
            PanelId::Procs => "Processes",
            PanelId::Network => "Network",
            PanelId::Storage => "Storage",
            PanelId::Console => "D console",
        }
    }

    /// Its script's name, as diagnostics call it.
    pub fn file(self) -> &'static str {
        match self {
            PanelId::Zones => "zones.d",
            PanelId::Vms => "vms.d",
            PanelId::Procs => "procs.d",
            PanelId::Network => "network.d",
            PanelId::Storage => "storage.d",
            PanelId::Console => "console.d",
        }
    }

    /// The script it starts with.
    pub fn default_source(self) -> &'static str {
        match self {
            PanelId::Zones => crate::scripts::ZONES,
            PanelId::Vms => crate::scripts::VMS,
            PanelId::Procs => crate::scripts::PROCS,
            PanelId::Network => crate::scripts::NETWORK,
            PanelId::Storage => crate::scripts::STORAGE,
            PanelId::Console => crate::scripts::CONSOLE,
        }
    }

    /// Whether its program starts with the dashboard (the console's waits
    /// for the user to run it).
    pub fn starts_at_once(self) -> bool {
        self != PanelId::Console
    }
}

/// A zone as the registry lists it (the `lumen` binary reads the
/// registry; this crate knows only the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneInfo {
    /// Its UUID: what `zonename` is in D.
    pub uuid: String,
    /// Its alias, if it has one.
    pub alias: Option<String>,
    /// Whether it is running (running zones are listed even when idle).
    pub running: bool,
}

/// D's `zonename` of the host.
pub const GLOBAL: &str = "global";

/// The zones as the registry listed them at the last refresh: which have
/// a row, and by what name.
///
/// Why rows follow the registry and not the data: a zone's key stays in
/// every aggregation once one of its threads has fired a probe, so the
/// data alone would keep a halted or deleted zone's row forever, at 0.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    /// The registry's zones by UUID; `None` until it has once been read.
    by_uuid: Option<HashMap<String, ZoneInfo>>,
}

impl Zones {
    /// The zones the registry listed: `zones`.
    pub fn new(zones: Vec<ZoneInfo>) -> Zones {
        Zones {
            by_uuid: Some(zones.into_iter().map(|z| (z.uuid.clone(), z)).collect()),
        }
    }

    /// The alias of zone `zonename` if it has one, else `zonename` itself
    /// ("global" stays "global").
    pub fn display(&self, zonename: &str) -> String {
        self.by_uuid
            .as_ref()
            .and_then(|m| m.get(zonename))
            .and_then(|z| z.alias.clone())
            .unwrap_or_else(|| zonename.to_string())
    }

    /// Whether the registry lists a zone `uuid` (running or not).
    pub fn knows(&self, uuid: &str) -> bool {
        self.by_uuid.as_ref().is_some_and(|m| m.contains_key(uuid))
    }

    /// The running zones' UUIDs.
    pub fn running(&self) -> impl Iterator<Item = &str> {
        self.by_uuid
            .iter()
            .flat_map(|m| m.values())
            .filter(|z| z.running)
            .map(|z| z.uuid.as_str())
    }

    /// Whether zone `zonename` has a row in a panel: the host always, a
    /// zone while the registry lists it as running. Before the registry
    /// has been read once there is nothing to go by, and every zone the
    /// data names has one (by UUID): hiding live zones would be worse
    /// than keeping dead ones.
    pub fn shown(&self, zonename: &str) -> bool {
        if zonename == GLOBAL {
            return true;
        }
        match &self.by_uuid {
            Some(m) => m.get(zonename).is_some_and(|z| z.running),
            None => true,
        }
    }
}

/// What panels read besides their own program's data.
pub struct Context {
    /// The registry's zones: which have rows, and their names.
    pub zones: Zones,
    /// The name of a KVM exit reason number (`KVM_EXIT_IO` = 2 → "IO").
    pub exit_reason: fn(u32) -> &'static str,
    /// How many CPUs the host has (shown beside CPU%).
    pub ncpus: usize,
    /// The zones pool's datasets and devices, as of the last refresh.
    pub pool: storage::PoolListing,
}

/// What every panel does.
pub trait Panel {
    /// Which panel it is.
    fn id(&self) -> PanelId;
    /// Its program.
    fn program(&self) -> &ProgramState;
    /// Its program, to update.
    fn program_mut(&mut self) -> &mut ProgramState;
    /// Its table, if it has one (the console has none).
    fn table(&self) -> Option<&TableState>;
    /// Its table, to move the selection, sort or filter.
    fn table_mut(&mut self) -> Option<&mut TableState>;
    /// A new program started at `at`: rates count from there.
    fn restart(&mut self, generation: u64, at: Instant);
    /// A snapshot of the program's aggregations taken at `at`, and what it
    /// printed since the last one.
    fn ingest(&mut self, aggregations: &[Aggregation], output: &str, at: Instant, ctx: &Context);
    /// Draw in `area`.
    fn draw(&self, area: Rect, buf: &mut Buffer, theme: &Theme, focused: bool);
    /// Where the table's rows are drawn when the panel is in `area` (the
    /// first row at the top): for mouse clicks.
    fn rows_area(&self, area: Rect) -> Option<Rect>;
    /// Scroll or move the selection by `delta` rows.
    fn scroll(&mut self, delta: isize) {
        if let Some(t) = self.table_mut() {
            t.move_by(delta);
        }
    }
}

/// A panel's body and status line inside its border.
pub fn inner_areas(area: Rect) -> (Rect, Rect) {
    let inner = Block::default().borders(Borders::ALL).inner(area);
    let body = Rect {
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let status = Rect {
        y: inner.y + body.height,
        height: inner.height.min(1),
        ..inner
    };
    (body, status)
}

/// Draw a panel's border with `title` (left, with the table's filter) and
/// `info` (right); the body and status areas inside.
pub fn frame(
    area: Rect,
    buf: &mut Buffer,
    title: &str,
    info: &str,
    theme: &Theme,
    focused: bool,
) -> (Rect, Rect) {
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_type(theme.border_type(focused))
        .border_style(theme.border(focused))
        .title(Line::styled(format!(" {title} "), theme.title(focused)));
    if !info.is_empty() {
        block = block.title(Line::styled(format!(" {info} "), theme.dim()).right_aligned());
    }
    block.render(area, buf);
    inner_areas(area)
}

/// A panel's title: its name, and the filter if one is set.
pub fn title(id: PanelId, table: Option<&TableState>) -> String {
    match table.map(TableState::filter) {
        Some(f) if !f.is_empty() => format!("{} [/{f}]", id.name()),
        _ => id.name().to_string(),
    }
}

/// If the program has failed to start, draw its message (the compiler's
/// diagnostic) in `body` and say so.
pub fn draw_failure(program: &ProgramState, body: Rect, buf: &mut Buffer, theme: &Theme) -> bool {
    let Status::Failed(msg) = &program.status else {
        return false;
    };
    Paragraph::new(msg.as_str())
        .style(theme.error())
        .wrap(Wrap { trim: false })
        .render(body, buf);
    true
}

/// What a table says while it has no rows yet.
pub fn waiting(program: &ProgramState, idle: &'static str) -> &'static str {
    match program.status {
        Status::Starting | Status::NotStarted => "starting…",
        _ if program.started_at.is_none() => "starting…",
        _ => idle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(uuid: &str, alias: Option<&str>, running: bool) -> ZoneInfo {
        ZoneInfo {
            uuid: uuid.into(),
            alias: alias.map(str::to_string),
            running,
        }
    }

    #[test]
    fn rows_are_the_host_and_the_running_zones() {
        let z = Zones::new(vec![
            zone("u-web", Some("web"), true),
            zone("u-old", Some("old"), false),
        ]);
        assert!(z.shown(GLOBAL));
        assert!(z.shown("u-web"));
        assert!(!z.shown("u-old"), "halted");
        assert!(!z.shown("u-gone"), "deleted: not listed");
        assert!(Zones::new(Vec::new()).shown(GLOBAL), "with no zones at all");
    }

    #[test]
    fn an_unread_registry_hides_nothing() {
        let z = Zones::default();
        assert!(z.shown("u-web"));
        assert_eq!(z.display("u-web"), "u-web");
        assert_eq!(z.running().count(), 0);
    }

    #[test]
    fn zones_are_named_by_alias_where_they_have_one() {
        let z = Zones::new(vec![
            zone("u-web", Some("web"), true),
            zone("u-anon", None, true),
        ]);
        assert_eq!(z.display("u-web"), "web");
        assert_eq!(z.display("u-anon"), "u-anon");
        assert_eq!(z.display(GLOBAL), "global");
    }
}
