//! Colours, or none: every style the dashboard uses, in one place, so
//! `--no-color` and `NO_COLOR` are one switch. Without colour, emphasis is
//! bold and reverse video only, and focus is shown by a thick border
//! (which needs no colour either).

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

/// The dashboard's styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether to use colour at all.
    pub color: bool,
}

impl Theme {
    /// A panel's border.
    pub fn border(&self, focused: bool) -> Style {
        match (self.color, focused) {
            (true, true) => Style::new().fg(Color::Cyan),
            (true, false) => Style::new().fg(Color::DarkGray),
            (false, _) => Style::new(),
        }
    }

    /// A panel's border line: thick when focused, in every mode.
    pub fn border_type(&self, focused: bool) -> BorderType {
        if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        }
    }

    /// A panel's title.
    pub fn title(&self, focused: bool) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.color && focused {
            s.fg(Color::Cyan)
        } else {
            s
        }
    }

    /// Column headers.
    pub fn header(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Yellow)
        } else {
            s
        }
    }

    /// The selected row.
    pub fn selected(&self, focused: bool) -> Style {
        match (self.color, focused) {
            (true, true) => Style::new().bg(Color::Blue).fg(Color::White),
            (true, false) => Style::new().bg(Color::DarkGray),
            (false, true) => Style::new().add_modifier(Modifier::REVERSED),
            (false, false) => Style::new().add_modifier(Modifier::UNDERLINED),
        }
    }

    /// Errors: compile diagnostics, failed programs.
    pub fn error(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Red)
        } else {
            s
        }
    }

    /// Warnings: drops and run-time errors of a program that still runs.
    pub fn warning(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// Quiet text: hints, a healthy status line.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Histogram and distribution bars.
    pub fn bar(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Green)
        } else {
            Style::new()
        }
    }

    /// Keys in the footer and the help.
    pub fn key(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Cyan)
        } else {
            s
        }
    }
}
