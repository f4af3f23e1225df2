//! Live programs: a D program compiled, loaded and attached inside the
//! caller's process, consumed a round at a time, its aggregations read as
//! data. Where `command` runs dtrace(1)'s whole command line to its end,
//! this is what a dashboard panel (`lumen top`) or a metrics exporter
//! drives: many programs at once, each stepped from the caller's loop.
//!
//! Data flow: source → [`d_lang::compile`] (against the live catalogue) →
//! code generation → [`run::Instance`] → [`run::Session`] (attached, BEGIN
//! fired) → [`LiveProgram::step`] → [`LiveProgram::aggregations`].

use crate::catalog::LiveCatalog;
use crate::print::aggregate::Aggregation;
use crate::run::session::OutputOptions;
use crate::run::{self, Session};
use crate::target::Targets;
use d_lang::codegen::{generate, CodegenOptions};
use d_lang::Origin;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Why a live program could not start, or stopped working.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The D compiler's diagnostic, worded as dtrace(1) words it.
    #[error("{0}")]
    Compile(String),
    /// The program compiled but matched no probe.
    #[error("{name}: no probes matched")]
    NoProbes {
        /// The program's name.
        name: String,
    },
    /// Loading or attaching failed (the verifier, a missing tracepoint…).
    #[error("{0}")]
    Enable(String),
    /// Consuming failed.
    #[error("{0}")]
    Run(String),
}

/// Output a live program prints (printf, trace, its error messages),
/// kept for the caller to show.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Take what has been written since the last take.
    pub fn take(&self) -> String {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&b).into_owned();
        b.clear();
        text
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A program printing far more than anyone reads keeps the newest
        // output only: a view shows the tail.
        if b.len() + buf.len() > 1 << 20 {
            let cut = (b.len() + buf.len()).saturating_sub(1 << 19).min(b.len());
            b.drain(..cut);
        }
        b.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One running D program.
pub struct LiveProgram {
    name: String,
    session: Session<'static>,
    out: Captured,
    err: Captured,
    ended: bool,
}

impl LiveProgram {
    /// Compile `source` (named `name` in diagnostics, as a script file
    /// would be), load and attach it, and fire BEGIN.
    pub fn start(
        name: &str,
        source: &str,
        catalog: &LiveCatalog,
    ) -> Result<LiveProgram, LiveError> {
        let opts = crate::command::process_compile_options(
            Origin::File(name.to_owned()),
            vec![name.to_owned()],
        );
        let program = d_lang::compile(source, &opts, catalog)
            .map_err(|d| LiveError::Compile(format!("{name}: {}", d.body(false, true))))?;
        if program.matched_probes() == 0 {
            return Err(LiveError::NoProbes {
                name: name.to_owned(),
            });
        }
        let targets = Targets::new(catalog);
        let object = generate(&program, &targets, &CodegenOptions::default())
            .map_err(|d| LiveError::Compile(format!("{name}: {}", d.body(false, true))))?;
        let attachments = object
            .programs
            .iter()
            .map(|p| targets.program_attachment(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(LiveError::Enable)?;
        let instance =
            run::Instance::new(object).map_err(|e| LiveError::Enable(format!("{name}: {e}")))?;
        let out = Captured::default();
        let err = Captured::default();
        let options = OutputOptions {
            quiet: true,
            ..OutputOptions::default()
        };
        let mut session = Session::attach(
            vec![instance],
            vec![attachments],
            catalog.tracefs(),
            out.clone(),
            err.clone(),
            options,
        )
        .map_err(|e| LiveError::Enable(format!("{name}: {e}")))?;
        session.begin().map_err(|e| LiveError::Run(e.to_string()))?;
        Ok(LiveProgram {
            name: name.to_owned(),
            session,
            out,
            err,
            ended: false,
        })
    }

    /// The program's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Consume what arrived, waiting at most `poll_ms`. Once the program
    /// calls `exit()`, END fires (its output is captured) and later steps
    /// do nothing.
    pub fn step(&mut self, poll_ms: i32) -> Result<(), LiveError> {
        if self.ended {
            return Ok(());
        }
        self.session
            .step(poll_ms)
            .map_err(|e| LiveError::Run(e.to_string()))?;
        if self.session.exit_requested().is_some() {
            self.end()?;
        }
        Ok(())
    }

    /// Fire END and print its output (into the captured output); the
    /// program no longer consumes.
    pub fn end(&mut self) -> Result<(), LiveError> {
        if !self.ended {
            self.ended = true;
            self.session
                .end()
                .map_err(|e| LiveError::Run(e.to_string()))?;
        }
        Ok(())
    }

    /// Whether the program has ended (by `exit()` or [`LiveProgram::end`]).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Every aggregation as it is now.
    pub fn aggregations(&mut self) -> Result<Vec<Aggregation>, LiveError> {
        self.session
            .aggregations()
            .map_err(|e| LiveError::Run(e.to_string()))
    }

    /// Output printed since the last call (printf, trace, printa).
    pub fn take_output(&self) -> String {
        self.out.take()
    }

    /// Errors and drop reports since the last call (`dtrace: 3 drops on CPU 0`…).
    pub fn take_errors(&self) -> String {
        self.err.take()
    }
}
