//! The crate's error: what can stop `lumen top` as a whole (a panel's
//! failing D program never does: it is shown in the panel).

/// Why the dashboard could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal could not be set up, drawn to or read (not a tty, a
    /// closed pty…).
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The engine's thread could not be started or died.
    #[error("engine thread: {0}")]
    Collector(String),
    /// `--metrics`: the endpoint could not start (a bad address, a port
    /// in use).
    #[error(transparent)]
    Metrics(#[from] engine::metrics::MetricsError),
}
