//! Drawing a frame from the [`App`]: the panels where the layout puts
//! them, the footer, and on top the help or the source editor. Reads the
//! state only (`&App`).

use crate::app::{App, Mode};
use crate::keymap::HELP;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};
use ratatui::Frame;
use std::time::Duration;

/// Draw the whole screen.
pub fn frame(f: &mut Frame, app: &App) {
    let area = f.area();
    draw(app, area, f.buffer_mut());
}

/// Draw the whole screen into `buf` (what [`frame`] does; tests call it
/// with a buffer of any size).
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let screen = crate::layout::screen(area, app.screen_zoom());
    for &(id, r) in &screen.panels {
        if r.width > 0 && r.height > 0 {
            app.panel(id).draw(r, buf, app.theme(), id == app.focus());
        }
    }
    footer(app, screen.footer, buf);
    match app.mode() {
        Mode::Help => help(app, screen.body, buf),
        Mode::EditSource => source_editor(app, screen.body, buf),
        _ => {}
    }
}

/// An interval as the footer shows it: `250ms`, `1s`.
pub fn interval_text(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn footer(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let t = app.theme();
    let mut spans = vec![
        Span::styled(format!(" {} ", app.focus().name()), t.title(true)),
        Span::raw(format!("│ every {} ", interval_text(app.interval()))),
    ];
    if app.frozen() {
        spans.push(Span::styled("│ FROZEN ", t.warning()));
    }
    if let Some(addr) = app.metrics() {
        spans.push(Span::raw(format!("│ metrics {addr} ")));
    }
    spans.push(Span::raw("│ "));
    let hints: &[(&str, &str)] = match app.mode() {
        Mode::Filter => {
            spans.push(Span::styled(
                format!("/{}▏", app.filter(app.focus())),
                t.key(),
            ));
            &[(" Enter", "keep"), ("Esc", "clear")]
        }
        Mode::EditConsole => &[("Ctrl-R", "run"), ("Esc", "done")],
        Mode::EditSource => &[("Ctrl-R", "apply"), ("Esc", "close")],
        Mode::Help => &[("any key", "closes the help")],
        Mode::Normal => &[
            ("q", "quit"),
            ("?", "help"),
            ("/", "filter"),
            ("Tab", "focus"),
            ("s", "sort"),
            ("e", "edit"),
            ("f", "freeze"),
            ("+-", "refresh"),
        ],
    };
    for (k, what) in hints {
        spans.push(Span::styled(*k, t.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans).render(area, buf);
}

/// `area` shrunk by `dx` columns and `dy` rows on each side.
fn inset(area: Rect, dx: u16, dy: u16) -> Rect {
    let w = area.width.saturating_sub(dx * 2);
    let h = area.height.saturating_sub(dy * 2);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn help(app: &App, body: Rect, buf: &mut Buffer) {
    let t = app.theme();
    let kw = HELP
        .iter()
        .map(|b| b.keys.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!(" {:<kw$}  ", b.keys), t.key()),
                Span::raw(b.what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::styled(
        " Every panel is a D script run by the engine: e shows it.",
        t.dim(),
    ));
    lines.push(Line::styled(
        " CPU% is percent of one CPU, from profile-97 samples.",
        t.dim(),
    ));
    let w = (lines.iter().map(Line::width).max().unwrap_or(0) + 3) as u16;
    let h = lines.len() as u16 + 2;
    let area = Rect {
        x: body.x + body.width.saturating_sub(w) / 2,
        y: body.y + body.height.saturating_sub(h) / 2,
        width: w.min(body.width),
        height: h.min(body.height),
    };
    Clear.render(area, buf);
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border(true))
                .title(Line::styled(" Help ", t.title(true))),
        )
        .render(area, buf);
}

fn source_editor(app: &App, body: Rect, buf: &mut Buffer) {
    let Some(ed) = app.source_editor() else {
        return;
    };
    let t = app.theme();
    let area = inset(body, 2, 1);
    Clear.render(area, buf);
    let program = app.panel(ed.panel).program();
    let state = if ed.applying {
        "starting…"
    } else {
        "Ctrl-R applies · Esc closes"
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border(true))
        .title(Line::styled(
            format!(" {} — {} ", ed.panel.file(), ed.panel.name()),
            t.title(true),
        ))
        .title(Line::styled(format!(" {state} "), t.dim()).right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    // The diagnostic of a refused edit, under the text.
    let diag = match (&program.edit_error, &program.status) {
        (Some(e), _) => Some((
            e.as_str(),
            "not applied; the panel keeps its running program:",
        )),
        (None, crate::program::Status::Failed(e)) => Some((e.as_str(), "failed; no program runs:")),
        _ => None,
    };
    let diag_h = diag.map_or(0, |(d, _)| {
        (d.lines().count() as u16 + 1).min(inner.height / 2)
    });
    let text = Rect {
        height: inner.height - diag_h,
        ..inner
    };
    (&ed.editor).render(text, buf);
    if let Some((d, what)) = diag {
        let r = Rect {
            y: text.y + text.height,
            height: diag_h,
            ..inner
        };
        let mut lines = vec![Line::styled(what, t.warning())];
        lines.extend(d.lines().map(|l| Line::styled(l.to_string(), t.error())));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(r, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppConfig, Mode};
    use crate::events::{EngineUpdate, Event, ProgramData, Snapshot};
    use crate::panels::{PanelId, ZoneInfo};
    use crate::test_utils::{agg, buckets, line, lines, LLQ};
    use crate::theme::Theme;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use engine::model::aggregation::{AggFunc, AggValue};
    use engine::model::value::Value;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    use ratatui::Terminal;
    use std::time::Instant;

    const WEB: &str = "a1b2c3d4-0000-4000-8000-000000000001";

    fn app(w: u16, h: u16, color: bool) -> App {
        App::new(AppConfig {
            theme: Theme { color },
            interval: Duration::from_secs(1),
            exit_reason: |_| "IO",
            ncpus: 2,
            size: Rect::new(0, 0, w, h),
            metrics: None,
        })
    }

    fn key(app: &mut App, code: KeyCode) {
        app.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// An app whose panels have started and had one refresh: zone "web"
    /// and the host in the Zones panel.
    fn running(w: u16, h: u16, color: bool) -> App {
        let mut a = app(w, h, color);
        a.start();
        let t0 = Instant::now();
        for (g, id) in [PanelId::Zones, PanelId::Vms, PanelId::Procs]
            .into_iter()
            .enumerate()
        {
            let source = a.panel(id).program().source.clone();
            a.handle(Event::Engine(EngineUpdate::Started {
                panel: id,
                generation: g as u64 + 1,
                at: t0,
                source,
            }));
        }
        let zones = vec![
            agg(
                "oncpu",
                AggFunc::Count,
                vec![(vec![Value::str(WEB)], AggValue::Scalar(97))],
            ),
            agg(
                "latency",
                LLQ,
                vec![
                    (vec![Value::str(WEB)], buckets(&LLQ, &[(1_500, 500)])),
                    (vec![Value::str("global")], buckets(&LLQ, &[(4_000, 20)])),
                ],
            ),
        ];
        let data = |panel, generation, aggregations| ProgramData {
            panel,
            generation,
            aggregations: Ok(aggregations),
            output: String::new(),
            errors: String::new(),
            ended: false,
        };
        a.handle(Event::Engine(EngineUpdate::Snapshot(Snapshot {
            at: t0 + Duration::from_secs(1),
            gather: Duration::ZERO,
            programs: vec![
                data(PanelId::Zones, 1, zones),
                data(PanelId::Vms, 2, vec![]),
                data(PanelId::Procs, 3, vec![]),
            ],
            zones: Some(vec![ZoneInfo {
                uuid: WEB.into(),
                alias: Some("web".into()),
                running: true,
            }]),
            pool: Default::default(),
        })));
        a
    }

    fn render(a: &App, w: u16, h: u16) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        t.draw(|f| frame(f, a)).expect("draw");
        t.backend().buffer().clone()
    }

    #[test]
    fn the_whole_screen() {
        let a = running(100, 30, false);
        let b = render(&a, 100, 30);
        let l = lines(&b);
        assert!(l[0].starts_with("┏ Zones ━"), "{}", l[0]);
        assert_eq!(
            line(&b, 1),
            "┃ZONE                     CPU%▼  SYSCALLS/s     P50     P99 syscall latency: web                   ┃"
        );
        assert_eq!(
            line(&b, 2),
            "┃web                      100.0         500   1.0µs   1.0µs 1.0µs █████████████████████████████ 500┃"
        );
        assert_eq!(
            line(&b, 3),
            "┃global                     0.0          20   4.0µs   4.0µs                                        ┃"
        );
        assert_eq!(
            l[8],
            "┌ VMs ──────────── VMM handling time · last 1.0s ┐┌ Processes ────────────────────────── last 1.0s ┐"
        );
        assert_eq!(
            l[10],
            "│no VM exits (VMs are kvm-brand zones)           ││nothing on CPU (idle)                           │"
        );
        assert_eq!(
            l[13],
            "│vms.d: running · e edits the D source           ││procs.d: running · e edits the D source         │"
        );
        assert_eq!(
            l[15],
            "┌ Storage ─────────────────────────────────────────────────────────────────────────────────────────┐"
        );
        assert_eq!(
            l[16],
            "│ZONE         DATASET                              OPS/s BYTES/s▼    P50    P99   USED  QUOTA  USE%│"
        );
        assert_eq!(
            l[20],
            "│storage.d: starting…                                                                              │"
        );
        assert_eq!(
            l[22],
            "┌ Network ───────────────────────────────────────┐┌ D console ────────────── e edits · Ctrl-R runs ┐"
        );
        assert_eq!(
            l[23],
            "│ZONE   VNIC       PKTS/s BYTES/s▼ DROPS/s CONN/s││  1 /*                                          │"
        );
        assert_eq!(
            l[27],
            "│network.d: starting…                            ││console.d: not running · Ctrl-R runs it         │"
        );
        assert_eq!(
            line(&b, 29),
            " Zones │ every 1s │ q quit  ? help  / filter  Tab focus  s sort  e edit  f freeze  +- refresh"
        );
    }

    fn from(s: &str, col: usize) -> String {
        s.chars().skip(col).collect()
    }

    #[test]
    fn help_overlay_lists_the_key_map() {
        let mut a = running(100, 30, false);
        key(&mut a, KeyCode::Char('?'));
        assert_eq!(a.mode(), Mode::Help);
        let b = render(&a, 100, 30);
        let l = lines(&b);
        let top = l
            .iter()
            .position(|x| x.contains("┌ Help "))
            .expect("a help box");
        assert_eq!(
            from(&l[top + 1], 14),
            "│ q  Ctrl-C       quit                                                │              ┃"
        );
        assert!(l[top + 7]
            .contains("│ /               filter rows by text (Enter keeps it, Esc clears it) │"));
        assert_eq!(line(&b, 29), " Zones │ every 1s │ any key closes the help");
        key(&mut a, KeyCode::Char('x'));
        assert_eq!(a.mode(), Mode::Normal);
        assert!(!lines(&render(&a, 100, 30))
            .iter()
            .any(|x| x.contains("┌ Help ")));
    }

    #[test]
    fn filter_shows_in_footer_and_title_and_hides_rows() {
        let mut a = running(100, 30, false);
        key(&mut a, KeyCode::Char('/'));
        key(&mut a, KeyCode::Char('w'));
        key(&mut a, KeyCode::Char('e'));
        let b = render(&a, 100, 30);
        assert!(
            line(&b, 0).starts_with("┏ Zones [/we] ━"),
            "{}",
            line(&b, 0)
        );
        assert!(line(&b, 2).starts_with("┃web "), "{}", line(&b, 2));
        assert!(
            line(&b, 3).starts_with("┃    "),
            "global is filtered out: {}",
            line(&b, 3)
        );
        assert_eq!(
            line(&b, 29),
            " Zones │ every 1s │ /we▏ Enter keep  Esc clear"
        );
    }

    #[test]
    fn a_refused_edit_shows_the_diagnostic_in_the_editor() {
        let mut a = running(80, 24, false);
        key(&mut a, KeyCode::Char('e'));
        a.handle(Event::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        )));
        a.handle(Event::Engine(EngineUpdate::StartFailed {
            panel: PanelId::Zones,
            error: "zones.d: line 23: syntax error near \"profile\"".into(),
        }));
        let b = render(&a, 80, 24);
        let l = lines(&b);
        assert!(
            from(&l[1], 2).starts_with("┌ zones.d — Zones ─"),
            "{}",
            l[1]
        );
        assert!(l[1].contains(" Ctrl-R applies · Esc closes ┐"), "{}", l[1]);
        assert!(from(&l[2], 2).starts_with("│  1 /*"), "{}", l[2]);
        assert_eq!(
            from(&l[19], 2),
            "│not applied; the panel keeps its running program:                         │ │"
        );
        assert_eq!(
            from(&l[20], 2),
            "│zones.d: line 23: syntax error near \"profile\"                             │ │"
        );
        assert_eq!(line(&b, 23), " Zones │ every 1s │ Ctrl-R apply  Esc close");
    }

    #[test]
    fn tiny_screens_draw_without_panicking() {
        for (w, h) in [(0, 0), (1, 1), (10, 5), (5, 20), (40, 3), (200, 2)] {
            for keys in [
                &[][..],
                &[KeyCode::Char('?')][..],
                &[KeyCode::Char('/'), KeyCode::Char('x')][..],
                &[KeyCode::Char('e')][..],
                &[KeyCode::BackTab, KeyCode::Char('e')][..],
                &[KeyCode::Char('z')][..],
            ] {
                let mut a = running(w, h, true);
                for k in keys {
                    key(&mut a, *k);
                }
                let _ = render(&a, w, h);
            }
        }
    }

    #[test]
    fn the_footer_says_where_metrics_are_served_and_when_frozen() {
        let mut a = App::new(AppConfig {
            theme: Theme { color: false },
            interval: Duration::from_millis(500),
            exit_reason: |_| "",
            ncpus: 1,
            size: Rect::new(0, 0, 140, 20),
            metrics: Some("127.0.0.1:9100".into()),
        });
        key(&mut a, KeyCode::Char('f'));
        let b = render(&a, 140, 20);
        assert_eq!(
            line(&b, 19),
            " Zones │ every 500ms │ FROZEN │ metrics 127.0.0.1:9100 │ q quit  ? help  / filter  Tab focus  s sort  e edit  f freeze  +- refresh"
        );
    }

    #[test]
    fn ten_by_five() {
        let a = running(10, 5, false);
        let b = render(&a, 10, 5);
        assert_eq!(
            lines(&b),
            [
                "┏ Zones  ┓",
                "┌ VM┐┌ Pr┐",
                "┌ Storage┐",
                "┌ Ne┐┌ D ┐",
                " Zones │ e"
            ]
        );
    }

    #[test]
    fn no_color_means_no_colour_at_all() {
        let a = running(100, 30, false);
        let b = render(&a, 100, 30);
        for c in b.content() {
            assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "{c:?}");
        }
        let a = running(100, 30, true);
        let b = render(&a, 100, 30);
        assert_eq!(b[(0, 0)].fg, Color::Cyan, "the focused panel's border");
    }
}
