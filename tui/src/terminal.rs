//! The terminal: raw mode, the alternate screen, mouse capture and
//! bracketed paste on the way in; all of it undone on the way out, on
//! every way out — a panic included, so a crash never leaves the user's
//! shell in raw mode.

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{stdout, Stdout};

/// The dashboard's terminal.
pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Take over the terminal; [`leave`] gives it back (and so does a panic).
pub fn enter() -> std::io::Result<Term> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let mut out = stdout();
    if let Err(e) = execute!(
        out,
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    ) {
        restore();
        return Err(e);
    }
    let mut t = Terminal::new(CrosstermBackend::new(out))?;
    t.hide_cursor()?;
    t.clear()?;
    Ok(t)
}

/// Give the terminal back.
pub fn leave(mut t: Term) -> std::io::Result<()> {
    t.show_cursor()?;
    restore();
    Ok(())
}

/// Undo everything [`enter`] did, as far as it can (each step on its
/// own: one failing must not keep the others from running).
fn restore() {
    let _ = execute!(
        stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}
