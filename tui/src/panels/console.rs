//! The D console: the user's own script in an editor beside its live
//! aggregations — a table for count, sum, avg, min, max and stddev, bars
//! for quantize, lquantize and llquantize — then what it printed. Values
//! are as the program holds them (since it started, as printa() would
//! print them), biggest first.

use super::{frame, inner_areas, Context, Panel, PanelId};
use crate::format;
use crate::latency::{visible_rows, Layout};
use crate::program::{ProgramState, Status};
use crate::theme::Theme;
use crate::widgets::status;
use crate::widgets::table::TableState;
use engine::model::aggregation::{value_cmp, AggFunc, AggValue, Aggregation};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use std::collections::VecDeque;
use std::time::Instant;
use tui_textarea::TextArea;

/// How many lines of printed output the console keeps.
const KEEP_OUTPUT: usize = 500;
/// The most rows one distribution shows (neighbours merge beyond).
const MAX_DIST_ROWS: usize = 24;
/// The widest bar.
const MAX_BAR: usize = 40;
/// From this body width on, the editor sits beside the results.
const SIDE_BY_SIDE_FROM: u16 = 80;

/// The D console.
pub struct ConsolePanel {
    program: ProgramState,
    editor: TextArea<'static>,
    editing: bool,
    aggs: Vec<Aggregation>,
    output: VecDeque<String>,
    scroll: usize,
    filter: String,
}

impl Default for ConsolePanel {
    fn default() -> Self {
        ConsolePanel::new()
    }
}

impl ConsolePanel {
    /// The console with its starting script, not running.
    pub fn new() -> ConsolePanel {
        let id = PanelId::Console;
        let mut p = ConsolePanel {
            program: ProgramState::new(id.file(), id.default_source()),
            editor: editor_for(id.default_source()),
            editing: false,
            aggs: Vec::new(),
            output: VecDeque::new(),
            scroll: 0,
            filter: String::new(),
        };
        p.set_editing(false);
        p
    }

    /// The editor holding the script.
    pub fn editor_mut(&mut self) -> &mut TextArea<'static> {
        &mut self.editor
    }

    /// The script as typed.
    pub fn text(&self) -> String {
        self.editor.lines().join("\n")
    }

    /// Whether keys go to the editor (its cursor shows then).
    pub fn set_editing(&mut self, editing: bool) {
        self.editing = editing;
        let cursor = if editing {
            Style::new().add_modifier(ratatui::style::Modifier::REVERSED)
        } else {
            Style::new()
        };
        self.editor.set_cursor_style(cursor);
        self.editor.set_cursor_line_style(Style::new());
    }

    /// Whether the editor has the keys.
    pub fn editing(&self) -> bool {
        self.editing
    }

    /// Show only entries whose keys contain `filter` (ignoring case).
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
    }

    /// The filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Editor and results side by side (wide) or one above the other.
    fn split(body: Rect) -> (Rect, Rect) {
        if body.width >= SIDE_BY_SIDE_FROM {
            let w = body.width * 2 / 5;
            (
                Rect { width: w, ..body },
                Rect {
                    x: body.x + w,
                    width: body.width - w,
                    ..body
                },
            )
        } else {
            let h = body.height / 2;
            (
                Rect { height: h, ..body },
                Rect {
                    y: body.y + h,
                    height: body.height - h,
                    ..body
                },
            )
        }
    }

    /// The results as lines `width` wide: each aggregation, then output.
    fn result_lines(&self, width: u16, theme: &Theme) -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let diag = match (&self.program.edit_error, &self.program.status) {
            (Some(e), _) => Some(e.as_str()),
            (None, Status::Failed(e)) => Some(e.as_str()),
            _ => None,
        };
        if let Some(d) = diag {
            out.extend(
                d.lines()
                    .map(|l| Line::styled(l.to_string(), theme.error())),
            );
            out.push(Line::default());
        }
        let needle = self.filter.to_lowercase();
        let mut aggs: Vec<&Aggregation> = self.aggs.iter().collect();
        aggs.sort_by_key(|a| a.id);
        for a in aggs {
            let name = if a.name.is_empty() { "@" } else { &a.name };
            let at = if a.name.is_empty() { "" } else { "@" };
            out.push(Line::styled(
                format!("{at}{name}  {}", func_name(&a.func)),
                theme.header(),
            ));
            let mut entries: Vec<_> = a
                .entries
                .iter()
                .map(|e| {
                    (
                        e.keys
                            .iter()
                            .map(format::key)
                            .collect::<Vec<_>>()
                            .join("  "),
                        e,
                    )
                })
                .filter(|(k, _)| needle.is_empty() || k.to_lowercase().contains(&needle))
                .collect();
            entries.sort_by(|x, y| {
                value_cmp(&a.func, &y.1.value, &x.1.value).then_with(|| x.0.cmp(&y.0))
            });
            if entries.is_empty() {
                out.push(Line::styled("  (no data)", theme.dim()));
            }
            match Layout::of(&a.func) {
                None => {
                    let values: Vec<String> = entries
                        .iter()
                        .map(|(_, e)| match e.value {
                            AggValue::Stddev { .. } => e.value.stddev(a.normalization).to_string(),
                            _ => e.value.scalar(a.normalization).unwrap_or(0).to_string(),
                        })
                        .collect();
                    let vw = values.iter().map(String::len).max().unwrap_or(0);
                    let kw = entries
                        .iter()
                        .map(|(k, _)| k.chars().count())
                        .max()
                        .unwrap_or(0)
                        .min((width as usize).saturating_sub(vw + 4));
                    for ((k, _), v) in entries.iter().zip(values) {
                        let k: String = k.chars().take(kw).collect();
                        out.push(Line::raw(format!("  {k:<kw$}  {v:>vw$}")));
                    }
                }
                Some(layout) => {
                    for (k, e) in &entries {
                        let AggValue::Buckets(b) = &e.value else {
                            continue;
                        };
                        if !k.is_empty() {
                            out.push(Line::raw(format!("  {k}")));
                        }
                        out.extend(distribution(&layout, b, a.normalization, width, theme));
                    }
                }
            }
            out.push(Line::default());
        }
        if !self.output.is_empty() {
            out.push(Line::styled("output", theme.header()));
            out.extend(self.output.iter().map(|l| Line::raw(l.clone())));
        }
        out
    }
}

/// A fresh editor holding `source`.
pub fn editor_for(source: &str) -> TextArea<'static> {
    let mut t = TextArea::new(source.lines().map(str::to_string).collect());
    t.set_tab_length(4);
    // Line numbers: diagnostics name lines.
    t.set_line_number_style(Style::new());
    t
}

/// How a function is written in D.
fn func_name(f: &AggFunc) -> String {
    match *f {
        AggFunc::Count => "count()".into(),
        AggFunc::Sum => "sum()".into(),
        AggFunc::Avg => "avg()".into(),
        AggFunc::Min => "min()".into(),
        AggFunc::Max => "max()".into(),
        AggFunc::Stddev => "stddev()".into(),
        AggFunc::Quantize => "quantize()".into(),
        AggFunc::Lquantize { base, limit, step } => format!("lquantize(, {base}, {limit}, {step})"),
        AggFunc::Llquantize {
            factor,
            low,
            high,
            nsteps,
        } => format!("llquantize(, {factor}, {low}, {high}, {nsteps})"),
    }
}

/// A distribution as DTrace draws it: `value |@@@@   | count` per bucket,
/// the bars as wide as fits (at most 40).
fn distribution(
    layout: &Layout,
    counts: &[i64],
    normal: u64,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let rows = visible_rows(&layout.buckets(counts), MAX_DIST_ROWS);
    let total: i64 = rows.iter().map(|b| b.count.abs()).sum();
    let counts_text: Vec<String> = rows
        .iter()
        .map(|b| (b.count / normal.max(1) as i64).to_string())
        .collect();
    let cw = counts_text.iter().map(String::len).max().unwrap_or(0);
    // "  " + label(12) + " |" + bar + "| " + count
    let bar = (width as usize)
        .saturating_sub(2 + 12 + 2 + 2 + cw)
        .min(MAX_BAR);
    rows.iter()
        .zip(counts_text)
        .map(|(b, c)| {
            let label = b.edge.text(|v| v.to_string());
            // As dtrace(1) does: the bar is the bucket's share of all.
            let len = if total == 0 {
                0
            } else {
                ((b.count.abs() as f64 / total as f64) * bar as f64).round() as usize
            }
            .min(bar);
            Line::from(vec![
                Span::raw(format!("  {label:>12} |")),
                Span::styled("@".repeat(len), theme.bar()),
                Span::raw(format!("{}| {c:>cw$}", " ".repeat(bar - len))),
            ])
        })
        .collect()
}

impl Panel for ConsolePanel {
    fn id(&self) -> PanelId {
        PanelId::Console
    }

    fn program(&self) -> &ProgramState {
        &self.program
    }

    fn program_mut(&mut self) -> &mut ProgramState {
        &mut self.program
    }

    fn table(&self) -> Option<&TableState> {
        None
    }

    fn table_mut(&mut self) -> Option<&mut TableState> {
        None
    }

    fn restart(&mut self, _generation: u64, _at: Instant) {
        self.aggs.clear();
        self.output.clear();
        self.scroll = 0;
    }

    fn ingest(&mut self, aggs: &[Aggregation], output: &str, _at: Instant, _ctx: &Context) {
        self.aggs = aggs.to_vec();
        for l in output.lines() {
            if self.output.len() == KEEP_OUTPUT {
                self.output.pop_front();
            }
            self.output.push_back(l.to_string());
        }
    }

    fn draw(&self, area: Rect, buf: &mut Buffer, theme: &Theme, focused: bool) {
        let title = if self.filter.is_empty() {
            PanelId::Console.name().to_string()
        } else {
            format!("{} [/{}]", PanelId::Console.name(), self.filter)
        };
        let info = if self.editing {
            "editing · Ctrl-R runs · Esc leaves"
        } else {
            "e edits · Ctrl-R runs"
        };
        let (body, status_area) = frame(area, buf, &title, info, theme, focused);
        status::draw(&self.program, status_area, buf, theme);
        if body.width == 0 || body.height == 0 {
            return;
        }
        let (edit_area, results) = ConsolePanel::split(body);
        let sep = if body.width >= SIDE_BY_SIDE_FROM {
            Borders::RIGHT
        } else {
            Borders::BOTTOM
        };
        let block = Block::default().borders(sep).border_style(theme.dim());
        let inner = block.inner(edit_area);
        block.render(edit_area, buf);
        (&self.editor).render(inner, buf);
        // One blank column after the separator.
        let results = Rect {
            x: results.x.saturating_add(1),
            width: results.width.saturating_sub(1),
            ..results
        };
        let lines = self.result_lines(results.width, theme);
        let scroll = self.scroll.min(lines.len().saturating_sub(1));
        let mut p = Paragraph::new(lines);
        if self.program.edit_error.is_some() || matches!(self.program.status, Status::Failed(_)) {
            p = p.wrap(Wrap { trim: false });
        }
        p.scroll((scroll.min(u16::MAX as usize) as u16, 0))
            .render(results, buf);
    }

    fn rows_area(&self, area: Rect) -> Option<Rect> {
        let (body, _) = inner_areas(area);
        Some(ConsolePanel::split(body).1)
    }

    fn scroll(&mut self, delta: isize) {
        // Lines do not depend on the width (only a diagnostic wraps), so
        // any width gives their number: scrolling stops at the last one.
        let n = self.result_lines(u16::MAX, &Theme { color: false }).len();
        let to = (self.scroll as isize).saturating_add(delta);
        self.scroll = to.clamp(0, n.saturating_sub(1) as isize) as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{agg, buckets, from_col, lines, render_panel};
    use engine::model::value::Value;

    fn ctx() -> Context {
        Context {
            zones: Default::default(),
            exit_reason: |_| "",
            ncpus: 1,
            pool: Default::default(),
        }
    }

    fn fed() -> ConsolePanel {
        let mut p = ConsolePanel::new();
        *p.editor_mut() = editor_for("syscall::read:entry\n{ @reads[execname] = count(); }");
        p.program.status = Status::Running;
        let mut reads = agg(
            "reads",
            AggFunc::Count,
            vec![
                (vec![Value::str("sshd")], AggValue::Scalar(12)),
                (vec![Value::str("cat")], AggValue::Scalar(340)),
            ],
        );
        reads.id = 0;
        let mut lat = agg(
            "lat",
            AggFunc::Quantize,
            vec![(vec![], buckets(&AggFunc::Quantize, &[(3, 30), (5, 10)]))],
        );
        lat.id = 1;
        p.ingest(&[lat, reads], "hello\n", Instant::now(), &ctx());
        p
    }

    #[test]
    fn tables_for_counts_and_bars_for_quantize() {
        let p = fed();
        let buf = render_panel(&p, 100, 14, false);
        let l: Vec<String> = lines(&buf)
            .iter()
            .map(|l| {
                from_col(l, 41)
                    .trim_end()
                    .trim_end_matches('│')
                    .trim_end()
                    .to_string()
            })
            .collect();
        assert_eq!(
            l[1..12],
            [
                "@reads  count()",
                "  cat   340",
                "  sshd   12",
                "",
                "@lat  quantize()",
                "             2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@         | 30",
                "             4 |@@@@@@@@@@                            | 10",
                "",
                "output",
                "hello",
                "",
            ]
            .map(String::from)
        );
        let first = &lines(&buf)[1];
        assert!(first.starts_with("│ 1 syscall::read:entry"), "{first}");
    }

    #[test]
    fn filter_keeps_matching_keys() {
        let mut p = fed();
        p.set_filter("SSH");
        let lines = p.result_lines(60, &Theme { color: false });
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text[..3], ["@reads  count()", "  sshd  12", ""]);
    }

    #[test]
    fn a_refused_run_shows_the_diagnostic_above_the_old_results() {
        let mut p = fed();
        p.program.edit_error = Some("console.d: line 2: syntax error near \"}\"".into());
        let text: Vec<String> = p
            .result_lines(60, &Theme { color: false })
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(text[0], "console.d: line 2: syntax error near \"}\"");
        assert_eq!(text[2], "@reads  count()");
    }
}
