//! The key map: which key does what in the dashboard's normal mode, and
//! the help overlay's table, drawn from the same list so the two cannot
//! disagree. Conventions are htop's, btop's, bottom's and k9s's.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave (restoring the terminal).
    Quit,
    /// Show the help overlay.
    Help,
    /// Start typing a filter for the focused panel's rows.
    Filter,
    /// Focus the next panel.
    FocusNext,
    /// Focus the previous panel.
    FocusPrev,
    /// Focus the panel to the left, below, above, right.
    FocusLeft,
    /// See [`Action::FocusLeft`].
    FocusDown,
    /// See [`Action::FocusLeft`].
    FocusUp,
    /// See [`Action::FocusLeft`].
    FocusRight,
    /// Select the row below.
    Down,
    /// Select the row above.
    Up,
    /// A page down.
    PageDown,
    /// A page up.
    PageUp,
    /// The first row.
    Top,
    /// The last row.
    Bottom,
    /// Sort by the next column.
    SortNext,
    /// Reverse the sort.
    SortReverse,
    /// Stop (or resume) refreshing the view; programs keep running.
    Freeze,
    /// Show the focused panel's D source in the editor (the console: edit
    /// its script).
    Edit,
    /// Give the focused panel the whole screen, or give it back.
    Zoom,
    /// Refresh more often.
    Faster,
    /// Refresh less often.
    Slower,
    /// Run the D console's script.
    Run,
}

/// One line of the help: the keys and what they do.
pub struct Binding {
    /// The keys, as the help shows them.
    pub keys: &'static str,
    /// What they do.
    pub what: &'static str,
}

/// The help overlay, in order.
pub const HELP: &[Binding] = &[
    Binding {
        keys: "q  Ctrl-C",
        what: "quit",
    },
    Binding {
        keys: "?",
        what: "this help (any key closes it)",
    },
    Binding {
        keys: "Tab  Shift-Tab",
        what: "focus the next / previous panel",
    },
    Binding {
        keys: "H J K L",
        what: "focus the panel left / below / above / right",
    },
    Binding {
        keys: "j k  ↓ ↑",
        what: "select the next / previous row",
    },
    Binding {
        keys: "PgDn PgUp g G",
        what: "a page down / up, first / last row",
    },
    Binding {
        keys: "/",
        what: "filter rows by text (Enter keeps it, Esc clears it)",
    },
    Binding {
        keys: "s  S",
        what: "sort by the next column / reverse the order",
    },
    Binding {
        keys: "f",
        what: "freeze the view (programs keep running)",
    },
    Binding {
        keys: "e",
        what: "view and edit the panel's D source",
    },
    Binding {
        keys: "Ctrl-R  F5",
        what: "run the D console's script, apply an edited source",
    },
    Binding {
        keys: "Esc",
        what: "leave the editor",
    },
    Binding {
        keys: "z",
        what: "zoom the panel to the whole screen and back",
    },
    Binding {
        keys: "+  -",
        what: "refresh more / less often",
    },
    Binding {
        keys: "mouse",
        what: "click a panel or row to select it, wheel to scroll",
    },
];

/// Whether `key` is the "run" chord (Ctrl-R or F5), in any mode.
pub fn is_run(key: &KeyEvent) -> bool {
    key.code == KeyCode::F(5)
        || (key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('r') | KeyCode::Char('R')))
}

/// Whether `key` is Ctrl-C, which quits from every mode.
pub fn is_interrupt(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C'))
}

/// The action of `key` in normal mode.
pub fn action(key: &KeyEvent) -> Option<Action> {
    if is_run(key) {
        return Some(Action::Run);
    }
    if is_interrupt(key) {
        return Some(Action::Quit);
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) || key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('H') => Action::FocusLeft,
        KeyCode::Char('J') => Action::FocusDown,
        KeyCode::Char('K') => Action::FocusUp,
        KeyCode::Char('L') => Action::FocusRight,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::Char('s') => Action::SortNext,
        KeyCode::Char('S') => Action::SortReverse,
        KeyCode::Char('f') => Action::Freeze,
        KeyCode::Char('e') => Action::Edit,
        KeyCode::Char('z') => Action::Zoom,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::Faster,
        KeyCode::Char('-') => Action::Slower,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn conventions_of_htop_and_k9s() {
        assert_eq!(action(&key(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(action(&key(KeyCode::Char('/'))), Some(Action::Filter));
        assert_eq!(action(&key(KeyCode::BackTab)), Some(Action::FocusPrev));
        assert_eq!(action(&key(KeyCode::Char('L'))), Some(Action::FocusRight));
        assert_eq!(action(&key(KeyCode::Down)), Some(Action::Down));
        assert_eq!(action(&key(KeyCode::F(5))), Some(Action::Run));
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)),
            Some(Action::Run)
        );
        assert_eq!(
            action(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(action(&key(KeyCode::Char('x'))), None);
    }
}
