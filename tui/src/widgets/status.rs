//! A program's status line: running, starting, or what went wrong.

use crate::program::{ProgramState, Severity};
use crate::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;

/// Draw `program`'s status line in the first row of `area`.
pub fn draw(program: &ProgramState, area: Rect, buf: &mut Buffer, theme: &Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let (text, severity) = program.status_line();
    let style = match severity {
        Severity::Ok => theme.dim(),
        Severity::Warning => theme.warning(),
        Severity::Error => theme.error(),
    };
    Line::styled(text, style).render(Rect { height: 1, ..area }, buf);
}
