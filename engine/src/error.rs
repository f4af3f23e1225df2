//! The errors that end a dtrace(1) run, worded as DTrace words them.
//!
//! Each variant's text is what follows `dtrace: ` on stderr; every one of
//! them means exit status 1 (usage errors, status 2, are [`crate::cli::UsageError`]).

use d_lang::options::OptionError;

/// Why a dtrace(1) run stopped.
#[derive(Debug, thiserror::Error)]
pub enum DtraceError {
    /// A `-x`, `-b` or option flag the option table rejects (user's fault).
    #[error("failed to set {culprit}: {source}")]
    SetOption {
        /// `-x NAME` or `-b VALUE`, as DTrace names it.
        culprit: String,
        /// Bad name or bad value.
        #[source]
        source: OptionError,
    },
    /// A flag whose feature Lumen does not have yet.
    #[error("{0} is not supported by Lumen yet")]
    Unsupported(String),
    /// Neither programs nor `-l` were given.
    #[error("no probes specified")]
    NoProbesSpecified,
    /// The programs compiled but matched no probe at all.
    #[error("no probes matched")]
    NoProbesMatched,
    /// A script or output file could not be opened.
    #[error("failed to open {path}: {reason}")]
    Open {
        /// The file as typed.
        path: String,
        /// strerror(3) text.
        reason: String,
    },
    /// A `-s` script did not compile; `body` is the diagnostic after the prefix.
    #[error("failed to compile script {file}: {body}")]
    CompileScript {
        /// The script as typed.
        file: String,
        /// `line N: message`, with `[TAG] ` under `-x errtags`.
        body: String,
    },
    /// A `-n`/`-P`/`-m`/`-f`/`-i` program did not compile or parse.
    #[error("invalid probe specifier {spec}: {body}")]
    InvalidSpecifier {
        /// The whole argument as typed.
        spec: String,
        /// The message.
        body: String,
    },
    /// `-l` with a description that matches nothing.
    #[error("failed to match {desc}: No probe matches description")]
    NoMatch {
        /// `PROVIDER:MODULE:FUNCTION:NAME`.
        desc: String,
    },
    /// A program could not be loaded into the kernel (the verifier refused it).
    #[error("failed to enable {what}: {reason}")]
    Enable {
        /// The program and probe.
        what: String,
        /// The kernel's reason, with the verifier log's last lines.
        reason: String,
    },
    /// Tracing could not run (attach, read or write failed).
    #[error("could not enable tracing: {0}")]
    Tracing(String),
    /// `-c` or `-p` failed.
    #[error("failed to {action}: {reason}")]
    Process {
        /// `execute CMD` or `grab pid N`.
        action: String,
        /// strerror text.
        reason: String,
    },
    /// Writing trace or listing output failed.
    #[error("failed to write output: {0}")]
    Write(#[source] std::io::Error),
}

/// strerror(3)-style text of an I/O error, without Rust's `(os error N)`.
pub fn reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}
