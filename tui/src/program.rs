//! A panel's D program as the dashboard knows it: its source, whether it
//! runs, and what went wrong — the compiler's diagnostic for a bad edit,
//! the engine's drops and run-time errors — kept to be shown, never
//! dropped.

use std::collections::VecDeque;
use std::time::Instant;

/// How many recent error lines a panel keeps.
const KEEP_ERRORS: usize = 50;

/// Where a program is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not started (the D console until its first run).
    NotStarted,
    /// Being compiled and attached.
    Starting,
    /// Running.
    Running,
    /// It called exit(); its last aggregations stay on show.
    Ended,
    /// No program runs: the first start failed with this message.
    Failed(String),
}

/// How bad a status line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Nothing wrong.
    Ok,
    /// The program runs, but lost data or hit run-time errors.
    Warning,
    /// No program runs, or an edit was refused.
    Error,
}

/// One panel's program.
#[derive(Debug, Clone)]
pub struct ProgramState {
    /// The script's name, as diagnostics call it (`zones.d`).
    pub file: &'static str,
    /// The source running (or about to).
    pub source: String,
    /// Where it is.
    pub status: Status,
    /// Which start of this panel's program the data comes from.
    pub generation: u64,
    /// When the running program started (rates count from there).
    pub started_at: Option<Instant>,
    /// The compiler's (or loader's) message for the last edit, which was
    /// not applied: the previous program still runs.
    pub edit_error: Option<String>,
    /// Recent drop reports and run-time errors, oldest first.
    pub errors: VecDeque<String>,
    /// How many error lines arrived in all.
    pub error_count: u64,
}

impl ProgramState {
    /// A program `file` with `source`, not started yet.
    pub fn new(file: &'static str, source: &str) -> ProgramState {
        ProgramState {
            file,
            source: source.to_string(),
            status: Status::NotStarted,
            generation: 0,
            started_at: None,
            edit_error: None,
            errors: VecDeque::new(),
            error_count: 0,
        }
    }

    /// Keep the lines of `text` (what `take_errors` returned).
    pub fn absorb_errors(&mut self, text: &str) {
        for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
            self.error_count += 1;
            if self.errors.len() == KEEP_ERRORS {
                self.errors.pop_front();
            }
            self.errors.push_back(line.to_string());
        }
    }

    /// The panel's status line and how bad it is.
    pub fn status_line(&self) -> (String, Severity) {
        let first = |s: &str| s.lines().next().unwrap_or("").trim().to_string();
        if let Some(e) = &self.edit_error {
            return (
                format!("edit not applied, old program still running: {}", first(e)),
                Severity::Error,
            );
        }
        if let Status::Failed(e) = &self.status {
            return (first(e), Severity::Error);
        }
        if let Some(last) = self.errors.back() {
            let text = if self.error_count > 1 {
                format!("{last} ({} errors/drops in all)", self.error_count)
            } else {
                last.clone()
            };
            return (text, Severity::Warning);
        }
        let text = match self.status {
            Status::NotStarted => format!("{}: not running · Ctrl-R runs it", self.file),
            Status::Starting => format!("{}: starting…", self.file),
            Status::Running => format!("{}: running · e edits the D source", self.file),
            Status::Ended => format!("{}: ended (the script called exit())", self.file),
            Status::Failed(_) => String::new(),
        };
        (text, Severity::Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_kept_and_counted() {
        let mut p = ProgramState::new("x.d", "BEGIN {}");
        p.status = Status::Running;
        assert_eq!(p.status_line().1, Severity::Ok);
        p.absorb_errors("dtrace: 3 drops on CPU 0\n\ndtrace: 1 dynamic variable drop\n");
        assert_eq!(p.error_count, 2);
        assert_eq!(
            p.status_line(),
            (
                "dtrace: 1 dynamic variable drop (2 errors/drops in all)".to_string(),
                Severity::Warning
            )
        );
    }

    #[test]
    fn a_refused_edit_outranks_everything() {
        let mut p = ProgramState::new("x.d", "BEGIN {}");
        p.status = Status::Running;
        p.absorb_errors("dtrace: 3 drops on CPU 0");
        p.edit_error = Some("x.d: line 1: syntax error near \"{\"\nmore".to_string());
        let (text, sev) = p.status_line();
        assert_eq!(sev, Severity::Error);
        assert_eq!(
            text,
            "edit not applied, old program still running: x.d: line 1: syntax error near \"{\""
        );
    }
}
