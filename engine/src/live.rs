//! Live programs: a D program compiled, loaded and attached inside the
//! caller's process, consumed a round at a time, its aggregations read as
//! data. Where `command` runs dtrace(1)'s whole command line to its end,
//! this is what a dashboard panel (`lumen top`), a metrics exporter or
//! `vmadm exitstat` drives: many programs at once, each stepped from the
//! caller's loop.
//!
//! Data flow: the same pipeline as dtrace(1)'s ([`crate::program`]:
//! compile against the live catalogue, generate, enable) → [`crate::run::Session`]
//! (attached, BEGIN fired) → [`LiveProgram::step`] →
//! [`LiveProgram::aggregations`]. A program may trace processes, as `-p`
//! and `-c` do ([`LiveOptions::targets`]), and take macro arguments.

use crate::catalog::LiveCatalog;
use crate::model::aggregation::Aggregation;
use crate::program::{self, Settings};
use crate::run::process::TracedProcess;
use crate::run::Session;
use crate::target::Targets;
use d_lang::Origin;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A process a live program traces (`$target` is the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveTarget {
    /// A running process, as `-p PID` grabs it.
    Pid(u32),
    /// A command started for the program, as `-c CMD` runs it (held
    /// until the program's BEGIN has fired).
    Command(String),
}

/// How a live program runs.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// Processes traced: `$target`, `PROVIDER$target:::`, and the USDT
    /// probes of each.
    pub targets: Vec<LiveTarget>,
    /// Macro arguments `$1 $2 …` (`$0` is the program's name).
    pub macro_args: Vec<String>,
    /// Option values (`-x`), beyond the program's own pragmas.
    pub settings: Settings,
}

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
    targets: Vec<TracedProcess>,
}

impl LiveProgram {
    /// Compile `source` (named `name` in diagnostics, as a script file
    /// would be), load and attach it, and fire BEGIN, with dtrace(1)'s
    /// defaults and no traced process.
    pub fn start(
        name: &str,
        source: &str,
        catalog: &LiveCatalog,
    ) -> Result<LiveProgram, LiveError> {
        LiveProgram::start_with(name, source, catalog, &LiveOptions::default())
    }

    /// [`LiveProgram::start`] with `options`: traced processes, macro
    /// arguments, option settings.
    pub fn start_with(
        name: &str,
        source: &str,
        catalog: &LiveCatalog,
        options: &LiveOptions,
    ) -> Result<LiveProgram, LiveError> {
        let mut targets = Vec::new();
        for t in &options.targets {
            let grabbed = match t {
                LiveTarget::Pid(pid) => TracedProcess::attach(*pid as i32),
                LiveTarget::Command(cmd) => TracedProcess::spawn(cmd),
            };
            let target = grabbed.map_err(|e| LiveError::Enable(format!("{name}: {t:?}: {e}")))?;
            catalog.add_process(target.pid() as u32, target.program().map(Into::into));
            targets.push(target);
        }
        let macro_args = std::iter::once(name.to_owned())
            .chain(options.macro_args.iter().cloned())
            .collect();
        let mut settings = options.settings.clone();
        let opts = settings.compile_options(
            Origin::File(name.to_owned()),
            macro_args,
            targets.first().map(|t| t.pid() as u32),
        );
        let compiled = program::compile(source.to_owned(), &opts, catalog)
            .map_err(|d| LiveError::Compile(format!("{name}: {}", d.body(false, true))))?;
        if compiled.program.matched_probes() == 0 {
            return Err(LiveError::NoProbes {
                name: name.to_owned(),
            });
        }
        settings.take_pragmas(&compiled.program);
        let resolver = Targets::new(catalog);
        let generated = program::generate(&compiled, &resolver, &settings, settings.backend())
            .map_err(|d| LiveError::Compile(format!("{name}: {}", d.body(false, true))))?;
        let enabled = program::enable(generated, &resolver)
            .map_err(|e| LiveError::Enable(format!("{name}: {e}")))?;
        let out = Captured::default();
        let err = Captured::default();
        let mut output = settings.output_options();
        // Nothing to print headers for: the caller reads data.
        output.quiet = true;
        let mut session = Session::attach(
            vec![enabled.instance],
            vec![enabled.attachments],
            catalog.tracefs(),
            out.clone(),
            err.clone(),
            output,
        )
        .map_err(|e| LiveError::Enable(format!("{name}: {e}")))?;
        session.begin().map_err(|e| LiveError::Run(e.to_string()))?;
        for t in &mut targets {
            t.release();
        }
        Ok(LiveProgram {
            name: name.to_owned(),
            session,
            out,
            err,
            ended: false,
            targets,
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
        // As dtrace(1)'s run ends when its -c/-p processes do.
        let targets_gone = !self.targets.is_empty() && self.targets.iter_mut().all(|t| t.exited());
        if self.session.exit_requested().is_some() || targets_gone {
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

    /// Empty every aggregation (keys and values), as `trunc()` of each
    /// would: the next read shows only what happened since.
    pub fn truncate(&mut self) -> Result<(), LiveError> {
        self.session
            .truncate_all()
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
