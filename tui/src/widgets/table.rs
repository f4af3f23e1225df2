//! A table of rows with a selection, a sort column and a text filter: the
//! model every table panel fills, and its drawing.
//!
//! The panel replaces the rows at each refresh; the selection follows the
//! selected row's key, so it stays on the same zone or process while the
//! numbers and the order change.

use crate::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell as TuiCell, Row as TuiRow, Table, Widget};
use std::cmp::Ordering;

/// How a column's text sits in its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A column: title, width (0: takes the room left), alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header text.
    pub title: &'static str,
    /// Width in cells; 0 shares what the fixed columns leave.
    pub width: u16,
    /// Left for text, right for numbers.
    pub align: Align,
}

impl Column {
    /// A text column, left-aligned.
    pub const fn text(title: &'static str, width: u16) -> Column {
        Column {
            title,
            width,
            align: Align::Left,
        }
    }

    /// A number column, right-aligned.
    pub const fn number(title: &'static str, width: u16) -> Column {
        Column {
            title,
            width,
            align: Align::Right,
        }
    }
}

/// What a cell sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// Numbers sort biggest first.
    Num(f64),
    /// Text sorts A to Z.
    Text(String),
}

/// One cell: what it shows and what it sorts by.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// The sort key.
    pub sort: SortKey,
}

impl Cell {
    /// A text cell, sorted by its text.
    pub fn text(s: impl Into<String>) -> Cell {
        let text = s.into();
        Cell {
            sort: SortKey::Text(text.to_lowercase()),
            text,
        }
    }

    /// A number cell shown as `text`, sorted by `n`.
    pub fn num(text: impl Into<String>, n: f64) -> Cell {
        Cell {
            text: text.into(),
            sort: SortKey::Num(n),
        }
    }
}

/// A row, with a key that names it across refreshes.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// A stable identity (zone UUID, pid…).
    pub key: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
}

/// The table's state: rows, and the view of them the user chose.
#[derive(Debug, Clone)]
pub struct TableState {
    columns: &'static [Column],
    rows: Vec<Row>,
    /// Indices into `rows`: filtered, then sorted.
    view: Vec<usize>,
    /// Index into `view`.
    selected: usize,
    selected_key: Option<String>,
    sort: usize,
    reverse: bool,
    filter: String,
}

impl TableState {
    /// An empty table sorted by column `sort`.
    pub fn new(columns: &'static [Column], sort: usize) -> TableState {
        TableState {
            columns,
            rows: Vec::new(),
            view: Vec::new(),
            selected: 0,
            selected_key: None,
            sort: sort.min(columns.len().saturating_sub(1)),
            reverse: false,
            filter: String::new(),
        }
    }

    /// The columns.
    pub fn columns(&self) -> &'static [Column] {
        self.columns
    }

    /// Replace the rows (a refresh).
    pub fn set_rows(&mut self, rows: Vec<Row>) {
        self.rows = rows;
        self.rebuild();
    }

    /// Show only rows one of whose cells contains `filter` (ignoring case).
    pub fn set_filter(&mut self, filter: &str) {
        self.filter = filter.to_string();
        self.rebuild();
    }

    /// The filter text.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Sort by the next column.
    pub fn cycle_sort(&mut self) {
        self.sort = (self.sort + 1) % self.columns.len().max(1);
        self.rebuild();
    }

    /// Reverse the order.
    pub fn reverse_sort(&mut self) {
        self.reverse = !self.reverse;
        self.rebuild();
    }

    /// The sort column and whether the order is reversed.
    pub fn sort(&self) -> (usize, bool) {
        (self.sort, self.reverse)
    }

    /// Move the selection by `delta` rows (clamped).
    pub fn move_by(&mut self, delta: isize) {
        let last = self.view.len().saturating_sub(1) as isize;
        self.select((self.selected as isize + delta).clamp(0, last.max(0)) as usize);
    }

    /// Select the `i`th row shown (clamped).
    pub fn select(&mut self, i: usize) {
        self.selected = i.min(self.view.len().saturating_sub(1));
        self.selected_key = self.selected_row().map(|r| r.key.clone());
    }

    /// Select the last row shown.
    pub fn select_last(&mut self) {
        self.select(usize::MAX);
    }

    /// The index of the selected row among those shown.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected row, if any is shown.
    pub fn selected_row(&self) -> Option<&Row> {
        self.view.get(self.selected).map(|&i| &self.rows[i])
    }

    /// The rows shown, in order.
    pub fn view(&self) -> impl Iterator<Item = &Row> {
        self.view.iter().map(|&i| &self.rows[i])
    }

    /// How many rows are shown.
    pub fn len(&self) -> usize {
        self.view.len()
    }

    /// Whether no row is shown.
    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    fn rebuild(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut view: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                needle.is_empty()
                    || self.rows[i]
                        .cells
                        .iter()
                        .any(|c| c.text.to_lowercase().contains(&needle))
            })
            .collect();
        let col = self.sort;
        let rows = &self.rows;
        view.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            let o = match (ra.cells.get(col), rb.cells.get(col)) {
                (Some(x), Some(y)) => cmp_cells(&x.sort, &y.sort),
                _ => Ordering::Equal,
            };
            let o = if self.reverse { o.reverse() } else { o };
            o.then_with(|| ra.key.cmp(&rb.key))
        });
        self.view = view;
        // The selection stays on its row if the row is still shown.
        let found = self
            .selected_key
            .as_ref()
            .and_then(|k| self.view.iter().position(|&i| &self.rows[i].key == k));
        match found {
            Some(i) => self.selected = i,
            None => {
                self.selected = self.selected.min(self.view.len().saturating_sub(1));
                self.selected_key = self.selected_row().map(|r| r.key.clone());
            }
        }
    }
}

/// Numbers biggest first, text A to Z; numbers before text.
fn cmp_cells(a: &SortKey, b: &SortKey) -> Ordering {
    match (a, b) {
        (SortKey::Num(x), SortKey::Num(y)) => y.partial_cmp(x).unwrap_or(Ordering::Equal),
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
        (SortKey::Num(_), SortKey::Text(_)) => Ordering::Less,
        (SortKey::Text(_), SortKey::Num(_)) => Ordering::Greater,
    }
}

/// The first row shown when `rows` rows fit and row `selected` must be
/// visible: the view scrolls only as far as the selection needs. A pure
/// rule, so drawing and mouse clicks agree on which row is where.
pub fn offset(selected: usize, rows: usize) -> usize {
    selected.saturating_sub(rows.saturating_sub(1))
}

/// Draw the table in `area`: a header line, then the rows that fit;
/// `empty` (dimmed) when no row is shown.
pub fn draw(
    state: &TableState,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    focused: bool,
    empty: &str,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let (sort, reverse) = state.sort();
    let header = TuiRow::new(state.columns.iter().enumerate().map(|(i, c)| {
        let mut title = c.title.to_string();
        if i == sort {
            // ▼: biggest (or A) first, the natural order; ▲ reversed.
            title.push(if reverse { '▲' } else { '▼' });
        }
        TuiCell::from(aligned(title, c.align))
    }))
    .style(theme.header());
    let rows_room = area.height.saturating_sub(1) as usize;
    let first = offset(state.selected, rows_room);
    let rows: Vec<TuiRow> = state
        .view()
        .enumerate()
        .skip(first)
        .take(rows_room)
        .map(|(i, r)| {
            let row = TuiRow::new(
                r.cells
                    .iter()
                    .zip(state.columns)
                    .map(|(cell, col)| TuiCell::from(aligned(cell.text.clone(), col.align))),
            );
            if i == state.selected {
                row.style(theme.selected(focused))
            } else {
                row
            }
        })
        .collect();
    let widths = state.columns.iter().map(|c| {
        if c.width == 0 {
            Constraint::Fill(1)
        } else {
            Constraint::Length(c.width)
        }
    });
    Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .render(area, buf);
    if state.is_empty() && area.height > 1 {
        let msg = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        Line::styled(empty.to_string(), theme.dim()).render(msg, buf);
    }
}

fn aligned(text: String, align: Align) -> Line<'static> {
    let line = Line::from(text);
    match align {
        Align::Left => line,
        Align::Right => line.alignment(Alignment::Right),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::lines;

    const COLS: &[Column] = &[
        Column {
            title: "NAME",
            width: 0,
            align: Align::Left,
        },
        Column {
            title: "N",
            width: 5,
            align: Align::Right,
        },
    ];

    fn row(name: &str, n: f64) -> Row {
        Row {
            key: name.to_string(),
            cells: vec![Cell::text(name), Cell::num(n.to_string(), n)],
        }
    }

    fn table() -> TableState {
        let mut t = TableState::new(COLS, 1);
        t.set_rows(vec![row("b", 1.0), row("a", 3.0), row("c", 2.0)]);
        t
    }

    fn names(t: &TableState) -> Vec<String> {
        t.view().map(|r| r.key.clone()).collect()
    }

    #[test]
    fn sorts_numbers_biggest_first_and_reverses() {
        let mut t = table();
        assert_eq!(names(&t), ["a", "c", "b"]);
        t.reverse_sort();
        assert_eq!(names(&t), ["b", "c", "a"]);
        t.cycle_sort();
        assert_eq!(names(&t), ["c", "b", "a"], "name, reversed");
    }

    #[test]
    fn selection_follows_its_row_across_refreshes() {
        let mut t = table();
        t.move_by(1);
        assert_eq!(t.selected_row().map(|r| r.key.as_str()), Some("c"));
        t.set_rows(vec![row("b", 1.0), row("a", 3.0), row("c", 9.0)]);
        assert_eq!(t.selected(), 0);
        assert_eq!(t.selected_row().map(|r| r.key.as_str()), Some("c"));
        t.move_by(-5);
        assert_eq!(t.selected(), 0);
        t.move_by(50);
        assert_eq!(t.selected(), 2);
    }

    #[test]
    fn filter_keeps_rows_with_matching_text() {
        let mut t = table();
        t.set_filter("A");
        assert_eq!(names(&t), ["a"]);
        t.set_filter("zz");
        assert!(t.is_empty());
        assert!(t.selected_row().is_none());
    }

    #[test]
    fn scrolling_keeps_the_selection_in_view() {
        assert_eq!(offset(0, 3), 0);
        assert_eq!(offset(2, 3), 0);
        assert_eq!(offset(5, 3), 3);
        assert_eq!(offset(5, 0), 5);
    }

    #[test]
    fn draws_header_sort_marker_and_rows() {
        let t = table();
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 3));
        draw(
            &t,
            buf.area,
            &mut buf,
            &Theme { color: false },
            true,
            "none",
        );
        assert_eq!(
            lines(&buf),
            ["NAME      N▼", "a          3", "c          2"]
        );
    }
}
