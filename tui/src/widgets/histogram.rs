//! A latency histogram drawn sideways, one bucket a line, as DTrace
//! prints quantize(): the bucket's lower edge, a bar, the count.

use crate::latency::{visible_rows, Bucket};
use crate::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

/// Draw `buckets` in `area`, numbers on the labels formatted by `unit`;
/// `empty` if none has data.
/// Rows are merged in pairs when they do not fit
/// ([`crate::latency::visible_rows`]).
pub fn draw(
    buckets: &[Bucket],
    unit: impl Fn(i64) -> String,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    empty: &str,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let rows = visible_rows(buckets, area.height as usize);
    if rows.is_empty() {
        Line::styled(empty.to_string(), theme.dim()).render(Rect { height: 1, ..area }, buf);
        return;
    }
    let labels: Vec<String> = rows.iter().map(|b| b.edge.text(&unit)).collect();
    let counts: Vec<String> = rows.iter().map(|b| b.count.to_string()).collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let cw = counts.iter().map(|c| c.len()).max().unwrap_or(0);
    let bar_room = (area.width as usize).saturating_sub(lw + cw + 2);
    let max = rows.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for (i, (b, (l, c))) in rows.iter().zip(labels.iter().zip(&counts)).enumerate() {
        // Rounded, and at least one cell for any non-zero count, so a
        // rare slow call stays visible beside a crowd of fast ones.
        let mut len = ((b.count as f64 / max as f64) * bar_room as f64).round() as usize;
        if b.count > 0 {
            len = len.max(1).min(bar_room);
        }
        let line = Line::from(vec![
            Span::raw(format!("{l:>lw$} ")),
            Span::styled("█".repeat(len), theme.bar()),
            Span::raw(" ".repeat(bar_room - len)),
            Span::raw(format!(" {c:>cw$}")),
        ]);
        line.render(
            Rect {
                y: area.y + i as u16,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::Edge;
    use crate::test_utils::lines;

    #[test]
    fn bars_scale_to_the_largest_bucket() {
        let b = |low, count| Bucket {
            edge: Edge::From(low),
            count,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 16, 4));
        draw(
            &[b(0, 0), b(1, 10), b(2, 5), b(4, 1), b(8, 0)],
            |v| v.to_string(),
            buf.area,
            &mut buf,
            &Theme { color: false },
            "no data",
        );
        assert_eq!(
            lines(&buf),
            [
                "1 ███████████ 10",
                "2 ██████       5",
                "4 █            1",
                "                ",
            ]
        );
    }
}
