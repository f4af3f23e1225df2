//! The dashboard's state and what each event does to it: focus, modes
//! (help, filter, editing), freeze, the refresh interval, and the panels.
//! No drawing and no I/O: [`App::handle`] takes an [`Event`] and returns
//! the [`Command`]s the engine's thread must carry out.

use crate::events::{Command, EngineUpdate, Event, Snapshot};
use crate::keymap::{self, Action};
use crate::layout::{self, Direction, Screen};
use crate::panels::console::{editor_for, ConsolePanel};
use crate::panels::network::NetworkPanel;
use crate::panels::procs::ProcsPanel;
use crate::panels::storage::{PoolListing, StoragePanel};
use crate::panels::vms::VmsPanel;
use crate::panels::zones::ZonesPanel;
use crate::panels::{Context, Panel, PanelId, Zones};
use crate::program::Status;
use crate::theme::Theme;
use crate::widgets::table;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use std::time::Duration;
use tui_textarea::TextArea;

/// The refresh intervals `+` and `-` step through.
pub const INTERVALS: [Duration; 7] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
];

/// Where keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The key map.
    Normal,
    /// The help overlay is up; any key closes it.
    Help,
    /// Typing the focused panel's filter.
    Filter,
    /// Typing in the D console's editor.
    EditConsole,
    /// Typing in the editor over a panel's D source.
    EditSource,
}

/// A panel's D source open in the editor.
pub struct SourceEditor {
    /// Whose source.
    pub panel: PanelId,
    /// The text being edited.
    pub editor: TextArea<'static>,
    /// Whether Ctrl-R sent it and the engine has not answered yet.
    pub applying: bool,
}

/// How the dashboard starts.
pub struct AppConfig {
    /// Colours or none.
    pub theme: Theme,
    /// The refresh interval.
    pub interval: Duration,
    /// Names of KVM exit reasons.
    pub exit_reason: fn(u32) -> &'static str,
    /// CPUs on the host.
    pub ncpus: usize,
    /// The screen's size.
    pub size: Rect,
    /// Where `--metrics` serves, if it does.
    pub metrics: Option<String>,
}

/// The dashboard.
pub struct App {
    zones: ZonesPanel,
    vms: VmsPanel,
    network: NetworkPanel,
    storage: StoragePanel,
    procs: ProcsPanel,
    console: ConsolePanel,
    focus: PanelId,
    mode: Mode,
    zoomed: bool,
    frozen: bool,
    /// The latest snapshot that arrived while frozen (older ones folded in).
    pending: Option<Snapshot>,
    interval: Duration,
    size: Rect,
    theme: Theme,
    source_editor: Option<SourceEditor>,
    ctx: Context,
    metrics: Option<String>,
    quit: bool,
}

impl App {
    /// The dashboard before any program has started.
    pub fn new(config: AppConfig) -> App {
        App {
            zones: ZonesPanel::new(),
            vms: VmsPanel::new(),
            network: NetworkPanel::new(),
            storage: StoragePanel::new(),
            procs: ProcsPanel::new(),
            console: ConsolePanel::new(),
            focus: PanelId::Zones,
            mode: Mode::Normal,
            zoomed: false,
            frozen: false,
            pending: None,
            interval: config.interval,
            size: config.size,
            theme: config.theme,
            source_editor: None,
            ctx: Context {
                zones: Zones::default(),
                exit_reason: config.exit_reason,
                ncpus: config.ncpus,
                pool: Default::default(),
            },
            metrics: config.metrics,
            quit: false,
        }
    }

    /// Start the panels' programs: the commands for the engine's thread.
    pub fn start(&mut self) -> Vec<Command> {
        let mut cmds = vec![Command::SetInterval(self.interval)];
        for id in PanelId::ALL.into_iter().filter(|p| p.starts_at_once()) {
            let p = self.panel_mut(id).program_mut();
            p.status = Status::Starting;
            cmds.push(Command::Start {
                panel: id,
                source: p.source.clone(),
            });
        }
        cmds
    }

    /// A panel.
    pub fn panel(&self, id: PanelId) -> &dyn Panel {
        match id {
            PanelId::Zones => &self.zones,
            PanelId::Vms => &self.vms,
            PanelId::Network => &self.network,
            PanelId::Storage => &self.storage,
            PanelId::Procs => &self.procs,
            PanelId::Console => &self.console,
        }
    }

    /// A panel, to change.
    pub fn panel_mut(&mut self, id: PanelId) -> &mut dyn Panel {
        match id {
            PanelId::Zones => &mut self.zones,
            PanelId::Vms => &mut self.vms,
            PanelId::Network => &mut self.network,
            PanelId::Storage => &mut self.storage,
            PanelId::Procs => &mut self.procs,
            PanelId::Console => &mut self.console,
        }
    }

    /// The focused panel.
    pub fn focus(&self) -> PanelId {
        self.focus
    }

    /// Where keys go.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the view is frozen.
    pub fn frozen(&self) -> bool {
        self.frozen
    }

    /// The refresh interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The styles.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// The editor over a panel's source, if open.
    pub fn source_editor(&self) -> Option<&SourceEditor> {
        self.source_editor.as_ref()
    }

    /// Where `--metrics` serves, if it does.
    pub fn metrics(&self) -> Option<&str> {
        self.metrics.as_deref()
    }

    /// Whether the user asked to leave.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The screen's layout now.
    pub fn screen(&self) -> Screen {
        layout::screen(self.size, self.screen_zoom())
    }

    /// The panel zoomed to the whole screen, if one is.
    pub fn screen_zoom(&self) -> Option<PanelId> {
        self.zoomed.then_some(self.focus)
    }

    /// The focused panel's filter text.
    pub fn filter(&self, id: PanelId) -> &str {
        match id {
            PanelId::Console => self.console.filter(),
            _ => self.panel(id).table().map_or("", |t| t.filter()),
        }
    }

    fn set_filter(&mut self, id: PanelId, text: &str) {
        match id {
            PanelId::Console => self.console.set_filter(text),
            _ => {
                if let Some(t) = self.panel_mut(id).table_mut() {
                    t.set_filter(text);
                }
            }
        }
    }

    /// Apply `event`; the commands for the engine's thread.
    pub fn handle(&mut self, event: Event) -> Vec<Command> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.key(k),
            Event::Key(_) => Vec::new(),
            Event::Mouse(m) => {
                self.mouse(m);
                Vec::new()
            }
            Event::Paste(text) => {
                self.paste(&text);
                Vec::new()
            }
            Event::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                Vec::new()
            }
            Event::Engine(u) => {
                self.engine(u);
                Vec::new()
            }
            Event::InputClosed(_) => {
                self.quit = true;
                vec![Command::Quit]
            }
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Command> {
        if keymap::is_interrupt(&k) {
            self.quit = true;
            return vec![Command::Quit];
        }
        match self.mode {
            Mode::Help => {
                self.mode = Mode::Normal;
                Vec::new()
            }
            Mode::Filter => {
                let mut text = self.filter(self.focus).to_string();
                match k.code {
                    KeyCode::Esc => {
                        text.clear();
                        self.mode = Mode::Normal;
                    }
                    KeyCode::Enter => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    KeyCode::Char(c) => text.push(c),
                    _ => {}
                }
                self.set_filter(self.focus, &text);
                Vec::new()
            }
            Mode::EditConsole => {
                if keymap::is_run(&k) {
                    return self.run_console();
                }
                if k.code == KeyCode::Esc {
                    self.mode = Mode::Normal;
                    self.console.set_editing(false);
                } else {
                    self.console.editor_mut().input(k);
                }
                Vec::new()
            }
            Mode::EditSource => {
                let Some(ed) = self.source_editor.as_mut() else {
                    self.mode = Mode::Normal;
                    return Vec::new();
                };
                if keymap::is_run(&k) {
                    ed.applying = true;
                    let panel = ed.panel;
                    let source = ed.editor.lines().join("\n");
                    self.panel_mut(panel).program_mut().edit_error = None;
                    return vec![Command::Start { panel, source }];
                }
                if k.code == KeyCode::Esc {
                    // Closing drops the edit: `e` opens what runs.
                    self.source_editor = None;
                    self.mode = Mode::Normal;
                } else {
                    ed.editor.input(k);
                }
                Vec::new()
            }
            Mode::Normal => match keymap::action(&k) {
                Some(a) => self.act(a),
                None => Vec::new(),
            },
        }
    }

    fn act(&mut self, a: Action) -> Vec<Command> {
        let page = (self.screen().area(self.focus).height as isize - 4).max(1);
        match a {
            Action::Quit => {
                self.quit = true;
                return vec![Command::Quit];
            }
            Action::Help => self.mode = Mode::Help,
            Action::Filter => self.mode = Mode::Filter,
            Action::FocusNext | Action::FocusPrev => {
                let all = PanelId::ALL;
                let i = all.iter().position(|&p| p == self.focus).unwrap_or(0);
                let n = all.len();
                let next = if a == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.focus = all[next];
            }
            Action::FocusLeft | Action::FocusDown | Action::FocusUp | Action::FocusRight => {
                let dir = match a {
                    Action::FocusLeft => Direction::Left,
                    Action::FocusDown => Direction::Down,
                    Action::FocusUp => Direction::Up,
                    _ => Direction::Right,
                };
                // Zoomed, the others have no place on screen: use the
                // unzoomed layout to find the neighbour.
                let screen = layout::screen(self.size, None);
                if let Some(p) = layout::neighbour(&screen, self.focus, dir) {
                    self.focus = p;
                }
            }
            Action::Down => self.panel_mut(self.focus).scroll(1),
            Action::Up => self.panel_mut(self.focus).scroll(-1),
            Action::PageDown => self.panel_mut(self.focus).scroll(page),
            Action::PageUp => self.panel_mut(self.focus).scroll(-page),
            Action::Top => self.panel_mut(self.focus).scroll(isize::MIN / 2),
            Action::Bottom => self.panel_mut(self.focus).scroll(isize::MAX / 2),
            Action::SortNext => {
                if let Some(t) = self.panel_mut(self.focus).table_mut() {
                    t.cycle_sort();
                }
            }
            Action::SortReverse => {
                if let Some(t) = self.panel_mut(self.focus).table_mut() {
                    t.reverse_sort();
                }
            }
            Action::Freeze => {
                self.frozen = !self.frozen;
                if !self.frozen {
                    if let Some(s) = self.pending.take() {
                        self.apply(s);
                    }
                }
            }
            Action::Edit => {
                if self.focus == PanelId::Console {
                    self.mode = Mode::EditConsole;
                    self.console.set_editing(true);
                } else {
                    // A fresh editor holds what runs: the message about
                    // an earlier, abandoned edit no longer applies.
                    let prog = self.panel_mut(self.focus).program_mut();
                    prog.edit_error = None;
                    let source = prog.source.clone();
                    self.source_editor = Some(SourceEditor {
                        panel: self.focus,
                        editor: editor_for(&source),
                        applying: false,
                    });
                    self.mode = Mode::EditSource;
                }
            }
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::Faster | Action::Slower => {
                let i = INTERVALS
                    .iter()
                    .position(|&d| d >= self.interval)
                    .unwrap_or(INTERVALS.len() - 1);
                let j = if a == Action::Faster {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(INTERVALS.len() - 1)
                };
                self.interval = INTERVALS[j];
                return vec![Command::SetInterval(self.interval)];
            }
            Action::Run => {
                if self.focus == PanelId::Console {
                    return self.run_console();
                }
            }
        }
        Vec::new()
    }

    fn run_console(&mut self) -> Vec<Command> {
        let source = self.console.text();
        let p = self.console.program_mut();
        p.edit_error = None;
        if !matches!(p.status, Status::Running | Status::Ended) {
            p.status = Status::Starting;
        }
        vec![Command::Start {
            panel: PanelId::Console,
            source,
        }]
    }

    fn paste(&mut self, text: &str) {
        match self.mode {
            Mode::EditConsole => {
                self.console.editor_mut().insert_str(text);
            }
            Mode::EditSource => {
                if let Some(ed) = self.source_editor.as_mut() {
                    ed.editor.insert_str(text);
                }
            }
            Mode::Filter => {
                let mut f = self.filter(self.focus).to_string();
                f.push_str(text.lines().next().unwrap_or(""));
                self.set_filter(self.focus, &f);
            }
            // Pasting into the focused console starts editing there.
            Mode::Normal if self.focus == PanelId::Console => {
                self.mode = Mode::EditConsole;
                self.console.set_editing(true);
                self.console.editor_mut().insert_str(text);
            }
            Mode::Normal | Mode::Help => {}
        }
    }

    fn mouse(&mut self, m: MouseEvent) {
        if self.mode != Mode::Normal {
            return;
        }
        let screen = self.screen();
        let Some(id) = screen.panel_at(m.column, m.row) else {
            return;
        };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = id;
                let area = screen.area(id);
                let panel = self.panel_mut(id);
                let Some(rows) = panel.rows_area(area) else {
                    return;
                };
                if !layout::contains(rows, m.column, m.row) {
                    return;
                }
                if let Some(t) = panel.table_mut() {
                    let first = table::offset(t.selected(), rows.height as usize);
                    t.select(first + usize::from(m.row - rows.y));
                }
            }
            MouseEventKind::ScrollDown => {
                self.focus = id;
                self.panel_mut(id).scroll(1);
            }
            MouseEventKind::ScrollUp => {
                self.focus = id;
                self.panel_mut(id).scroll(-1);
            }
            _ => {}
        }
    }

    fn engine(&mut self, u: EngineUpdate) {
        match u {
            EngineUpdate::Started {
                panel,
                generation,
                at,
                source,
            } => {
                let p = self.panel_mut(panel);
                {
                    let prog = p.program_mut();
                    prog.status = Status::Running;
                    prog.generation = generation;
                    prog.started_at = Some(at);
                    prog.source = source;
                    prog.edit_error = None;
                }
                p.restart(generation, at);
                if self
                    .source_editor
                    .as_ref()
                    .is_some_and(|e| e.panel == panel && e.applying)
                {
                    self.source_editor = None;
                    self.mode = Mode::Normal;
                }
            }
            EngineUpdate::StartFailed { panel, error } => {
                let prog = self.panel_mut(panel).program_mut();
                // The old program (if any) keeps running: the error is
                // about the edit, not about what is on show.
                if matches!(prog.status, Status::Running | Status::Ended) {
                    prog.edit_error = Some(error);
                } else {
                    prog.status = Status::Failed(error);
                }
                if let Some(ed) = self.source_editor.as_mut() {
                    if ed.panel == panel {
                        ed.applying = false;
                    }
                }
            }
            EngineUpdate::Snapshot(s) => {
                if self.frozen {
                    let mut s = s;
                    if let Some(older) = self.pending.take() {
                        s.absorb_older(older);
                    }
                    self.pending = Some(s);
                } else {
                    self.apply(s);
                }
            }
        }
    }

    fn apply(&mut self, s: Snapshot) {
        if let Some(z) = s.zones {
            self.ctx.zones = Zones::new(z);
        }
        if s.pool != PoolListing::Unread {
            self.ctx.pool = s.pool;
        }
        for data in s.programs {
            let ctx = &self.ctx;
            let panel: &mut dyn Panel = match data.panel {
                PanelId::Zones => &mut self.zones,
                PanelId::Vms => &mut self.vms,
                PanelId::Network => &mut self.network,
                PanelId::Storage => &mut self.storage,
                PanelId::Procs => &mut self.procs,
                PanelId::Console => &mut self.console,
            };
            panel.program_mut().absorb_errors(&data.errors);
            if data.generation != panel.program().generation {
                continue;
            }
            match &data.aggregations {
                Ok(aggs) => panel.ingest(aggs, &data.output, s.at, ctx),
                Err(e) => panel.program_mut().absorb_errors(e),
            }
            if data.ended && panel.program().status == Status::Running {
                panel.program_mut().status = Status::Ended;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ProgramData;
    use crate::test_utils::counts;
    use crossterm::event::KeyModifiers;
    use std::time::Instant;

    pub fn app() -> App {
        App::new(AppConfig {
            theme: Theme { color: false },
            interval: Duration::from_secs(1),
            exit_reason: |_| "IO",
            ncpus: 2,
            size: Rect::new(0, 0, 100, 41),
            metrics: None,
        })
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Command> {
        app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn started(app: &mut App, panel: PanelId, generation: u64, at: Instant) {
        let source = app.panel(panel).program().source.clone();
        app.handle(Event::Engine(EngineUpdate::Started {
            panel,
            generation,
            at,
            source,
        }));
    }

    #[test]
    fn start_asks_for_every_panel_but_the_console() {
        let mut a = app();
        let cmds = a.start();
        assert_eq!(cmds[0], Command::SetInterval(Duration::from_secs(1)));
        let started: Vec<PanelId> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Start { panel, .. } => Some(*panel),
                _ => None,
            })
            .collect();
        assert_eq!(
            started,
            [
                PanelId::Zones,
                PanelId::Vms,
                PanelId::Procs,
                PanelId::Storage,
                PanelId::Network
            ]
        );
        assert_eq!(a.panel(PanelId::Zones).program().status, Status::Starting);
    }

    #[test]
    fn focus_moves_with_tab_and_hjkl() {
        let mut a = app();
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus(), PanelId::Vms);
        key(&mut a, KeyCode::Char('L'));
        assert_eq!(a.focus(), PanelId::Procs);
        key(&mut a, KeyCode::Char('J'));
        assert_eq!(a.focus(), PanelId::Storage);
        key(&mut a, KeyCode::Char('J'));
        assert_eq!(a.focus(), PanelId::Network);
        key(&mut a, KeyCode::Char('L'));
        assert_eq!(a.focus(), PanelId::Console);
        key(&mut a, KeyCode::BackTab);
        assert_eq!(a.focus(), PanelId::Network);
        key(&mut a, KeyCode::Char('K'));
        assert_eq!(a.focus(), PanelId::Storage);
        key(&mut a, KeyCode::Char('K'));
        assert_eq!(a.focus(), PanelId::Vms);
        key(&mut a, KeyCode::Char('K'));
        assert_eq!(a.focus(), PanelId::Zones);
    }

    #[test]
    fn filter_typing_then_escape_clears_it() {
        let mut a = app();
        key(&mut a, KeyCode::Char('/'));
        assert_eq!(a.mode(), Mode::Filter);
        key(&mut a, KeyCode::Char('w'));
        key(&mut a, KeyCode::Char('x'));
        key(&mut a, KeyCode::Backspace);
        assert_eq!(a.filter(PanelId::Zones), "w");
        key(&mut a, KeyCode::Enter);
        assert_eq!(a.mode(), Mode::Normal);
        assert_eq!(a.filter(PanelId::Zones), "w");
        key(&mut a, KeyCode::Char('/'));
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.filter(PanelId::Zones), "");
    }

    #[test]
    fn refresh_interval_steps() {
        let mut a = app();
        assert_eq!(
            key(&mut a, KeyCode::Char('+')),
            [Command::SetInterval(Duration::from_millis(500))]
        );
        key(&mut a, KeyCode::Char('-'));
        key(&mut a, KeyCode::Char('-'));
        assert_eq!(a.interval(), Duration::from_secs(2));
    }

    #[test]
    fn a_bad_edit_keeps_the_old_program_and_the_editor_open() {
        let mut a = app();
        a.start();
        let t0 = Instant::now();
        started(&mut a, PanelId::Zones, 1, t0);
        key(&mut a, KeyCode::Char('e'));
        assert_eq!(a.mode(), Mode::EditSource);
        let cmds = a.handle(Event::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
        assert!(matches!(
            &cmds[..],
            [Command::Start {
                panel: PanelId::Zones,
                ..
            }]
        ));
        a.handle(Event::Engine(EngineUpdate::StartFailed {
            panel: PanelId::Zones,
            error: "zones.d: line 1: syntax error".into(),
        }));
        let p = a.panel(PanelId::Zones).program();
        assert_eq!(p.status, Status::Running, "the old program still runs");
        assert_eq!(
            p.edit_error.as_deref(),
            Some("zones.d: line 1: syntax error")
        );
        assert_eq!(a.mode(), Mode::EditSource);
        assert!(a.source_editor().is_some_and(|e| !e.applying));
        // A good edit replaces the program and closes the editor.
        a.handle(Event::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
        started(&mut a, PanelId::Zones, 2, t0);
        assert_eq!(a.mode(), Mode::Normal);
        assert_eq!(a.panel(PanelId::Zones).program().edit_error, None);
        assert_eq!(a.panel(PanelId::Zones).program().generation, 2);
    }

    #[test]
    fn a_console_that_never_ran_shows_its_failure() {
        let mut a = app();
        a.handle(Event::Engine(EngineUpdate::StartFailed {
            panel: PanelId::Console,
            error: "console.d: line 2: bad".into(),
        }));
        assert_eq!(
            a.panel(PanelId::Console).program().status,
            Status::Failed("console.d: line 2: bad".into())
        );
    }

    #[test]
    fn freeze_holds_data_but_keeps_errors() {
        let mut a = app();
        let t0 = Instant::now();
        started(&mut a, PanelId::Procs, 1, t0);
        key(&mut a, KeyCode::Char('f'));
        assert!(a.frozen());
        let snap = |secs, errors: &str| Snapshot {
            at: t0 + Duration::from_secs(secs),
            gather: Duration::ZERO,
            programs: vec![ProgramData {
                panel: PanelId::Procs,
                generation: 1,
                aggregations: Ok(vec![counts("oncpu", &[])]),
                output: String::new(),
                errors: errors.to_string(),
                ended: false,
            }],
            zones: None,
            pool: Default::default(),
        };
        a.handle(Event::Engine(EngineUpdate::Snapshot(snap(
            1,
            "dtrace: 1 drop on CPU 0\n",
        ))));
        a.handle(Event::Engine(EngineUpdate::Snapshot(snap(2, ""))));
        assert_eq!(a.panel(PanelId::Procs).program().error_count, 0);
        key(&mut a, KeyCode::Char('f'));
        assert_eq!(a.panel(PanelId::Procs).program().error_count, 1);
    }

    #[test]
    fn clicking_a_row_focuses_its_panel_and_selects_it() {
        let mut a = app();
        let t0 = Instant::now();
        started(&mut a, PanelId::Zones, 1, t0);
        a.ctx.zones = Zones::new(vec![crate::panels::ZoneInfo {
            uuid: "u1".into(),
            alias: None,
            running: true,
        }]);
        a.zones.ingest(&[], "", t0 + Duration::from_secs(1), &a.ctx);
        key(&mut a, KeyCode::Tab);
        // Zones: border row 0, header row 1, rows from 2: click the second.
        a.handle(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 3,
            row: 3,
            modifiers: KeyModifiers::NONE,
        }));
        assert_eq!(a.focus(), PanelId::Zones);
        let t = a.panel(PanelId::Zones).table().expect("table");
        assert_eq!(t.selected(), 1);
    }

    #[test]
    fn a_script_pasted_into_the_console_is_run_by_ctrl_r() {
        let mut a = app();
        a.focus = PanelId::Console;
        a.handle(Event::Paste("BEGIN { exit(0); }\n".into()));
        assert_eq!(a.mode(), Mode::EditConsole);
        let cmds = a.handle(Event::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        )));
        let [Command::Start { panel, source }] = &cmds[..] else {
            panic!("{cmds:?}");
        };
        assert_eq!(*panel, PanelId::Console);
        assert!(source.starts_with("BEGIN { exit(0); }\n"), "{source}");
        assert_eq!(a.panel(PanelId::Console).program().status, Status::Starting);
    }

    #[test]
    fn ctrl_c_quits_from_the_editor() {
        let mut a = app();
        for _ in 0..5 {
            key(&mut a, KeyCode::Tab);
        }
        key(&mut a, KeyCode::Char('e'));
        assert_eq!(a.mode(), Mode::EditConsole);
        key(&mut a, KeyCode::Char('q'));
        assert!(!a.should_quit(), "q is text in the editor");
        a.handle(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert!(a.should_quit());
    }

    #[test]
    fn a_zone_leaves_with_the_snapshot_whose_registry_has_it_stopped() {
        const WEB: &str = "a1b2c3d4-0000-4000-8000-000000000001";
        let mut a = app();
        let t0 = Instant::now();
        started(&mut a, PanelId::Zones, 1, t0);
        let web = |running| crate::panels::ZoneInfo {
            uuid: WEB.into(),
            alias: Some("web".into()),
            running,
        };
        let snap = |secs, zones| {
            EngineUpdate::Snapshot(Snapshot {
                at: t0 + Duration::from_secs(secs),
                gather: Duration::ZERO,
                programs: vec![ProgramData {
                    panel: PanelId::Zones,
                    generation: 1,
                    aggregations: Ok(vec![counts("oncpu", &[(WEB, 97)])]),
                    output: String::new(),
                    errors: String::new(),
                    ended: false,
                }],
                zones,
                pool: Default::default(),
            })
        };
        let names = |a: &App| -> Vec<String> {
            a.panel(PanelId::Zones)
                .table()
                .map(|t| t.view().map(|r| r.cells[0].text.clone()).collect())
                .unwrap_or_default()
        };
        a.handle(Event::Engine(snap(1, Some(vec![web(true)]))));
        assert_eq!(names(&a), ["web", "global"]);
        // The registry could not be read this time: the last list stands.
        a.handle(Event::Engine(snap(2, None)));
        assert_eq!(names(&a), ["web", "global"]);
        a.handle(Event::Engine(snap(3, Some(vec![web(false)]))));
        assert_eq!(names(&a), ["global"]);
    }
}
