//! The dtrace(1) command: parsed arguments in, listing or compiled programs out, an exit status back.
//!
//! Order of work, as in DTrace's `main`: parse the command line (usage
//! errors: status 2); `-V`; set options (`-x`, `-b`, option flags); open the
//! probe catalogue; then either list probes (`-l`) or compile every program
//! in command-line order, stopping at the first error. `-e` stops after
//! compiling; otherwise the `matched N probes` notices are printed and, as
//! execution is not built yet, the run ends with an error.

use crate::catalog::LiveCatalog;
use crate::cli::{self, DtraceArgs, ProgramArg, SettingOrigin};
use crate::error::{reason, DtraceError};
use crate::program::{self, Settings};
use crate::target::Targets;
use crate::{cpp, listing, run, snippet};
use d_lang::catalog::{ProbeDesc, ProbeInfo};
use d_lang::options::{self, OptionValue};
use d_lang::{CompileOptions, Diagnostic, ErrTag, Origin};
use std::io::{self, Write};

/// What `-V` prints.
pub const VERSION_LINE: &str = concat!(
    "dtrace: Lumen dtrace ",
    env!("CARGO_PKG_VERSION"),
    " (D language compatible with Oracle DTrace 2.0)"
);

/// Where the command writes: trace data and listings to `out`, every
/// `dtrace: …` message to `err`.
pub struct Console<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Whether stderr is a terminal (compile errors then get a caret snippet).
    pub err_is_terminal: bool,
}

/// Run dtrace(1) with `args` (without the program name); returns the exit status.
pub fn run(args: &[String], console: &mut Console<'_>) -> i32 {
    let parsed = match cli::parse(args) {
        Ok(parsed) => parsed,
        Err(usage) => {
            if let Some(message) = usage.message() {
                let _ = writeln!(console.err, "{message}");
            }
            let _ = console.err.write_all(cli::USAGE.as_bytes());
            return 2;
        }
    };
    if parsed.version {
        return match writeln!(console.out, "{VERSION_LINE}") {
            Ok(()) => 0,
            Err(_) => 1,
        };
    }
    let mut session = DtraceRun::new(console);
    match session.run(&parsed) {
        Ok(status) => status,
        Err(Failure {
            error,
            snippet,
            kernel_hint,
        }) => {
            let _ = session.out().flush();
            if let DtraceError::Write(e) = &error {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return 1;
                }
            }
            let kernel_note = session.kernel_note.take();
            let err = &mut *session.console.err;
            let _ = writeln!(err, "dtrace: {error}");
            if let Some(snippet) = snippet {
                let _ = err.write_all(snippet.as_bytes());
            }
            if let (true, Some(note)) = (kernel_hint, kernel_note) {
                let _ = writeln!(err, "dtrace: note: {note}");
            }
            1
        }
    }
}

/// An error plus, for compile errors on a terminal, the caret snippet.
struct Failure {
    error: DtraceError,
    snippet: Option<String>,
    /// The error is about descriptions matching nothing, which missing
    /// kernel probes may explain.
    kernel_hint: bool,
}

impl From<DtraceError> for Failure {
    fn from(error: DtraceError) -> Self {
        let kernel_hint = matches!(
            error,
            DtraceError::NoMatch { .. } | DtraceError::NoProbesMatched
        );
        Failure {
            error,
            snippet: None,
            kernel_hint,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        DtraceError::Write(e).into()
    }
}

/// A run's programs compiled as one, and the command-line arguments they
/// came from (a diagnostic's `program` indexes them).
struct Compiled {
    args: Vec<ProgramArg>,
    compiled: program::Compiled,
}

/// State for one run.
struct DtraceRun<'c, 'a> {
    console: &'c mut Console<'a>,
    /// `-o FILE`, replacing stdout for trace output and listings.
    output: Option<std::fs::File>,
    settings: Settings,
    /// Why kernel probes are missing, told after an error about matching.
    kernel_note: Option<String>,
    /// `$target`: the first `-c`/`-p` process.
    target: Option<u32>,
}

impl<'c, 'a> DtraceRun<'c, 'a> {
    fn new(console: &'c mut Console<'a>) -> Self {
        DtraceRun {
            console,
            output: None,
            settings: Settings::default(),
            kernel_note: None,
            target: None,
        }
    }

    fn out(&mut self) -> &mut dyn Write {
        match self.output.as_mut() {
            Some(file) => file,
            None => &mut *self.console.out,
        }
    }

    fn quiet(&self) -> bool {
        self.settings.is_set("quiet")
    }

    fn notice(&mut self, text: &str) {
        if !self.quiet() {
            let _ = self.out().flush();
            let _ = writeln!(self.console.err, "dtrace: {text}");
        }
    }

    /// A warning: shown even with -q.
    fn warning(&mut self, text: &str) {
        let _ = self.out().flush();
        let _ = writeln!(self.console.err, "dtrace: {text}");
    }

    fn run(&mut self, args: &DtraceArgs) -> Result<i32, Failure> {
        self.apply_settings(args)?;
        if let Some(flag) = args.unsupported.first() {
            let letter = flag.split_whitespace().next().unwrap_or(flag);
            return Err(DtraceError::Unsupported(letter.to_string()).into());
        }
        if args.data_model == Some(32) {
            return Err(DtraceError::Unsupported("-32".into()).into());
        }
        if args.header || args.generate {
            return self.provider_files(args);
        }
        if let Some(path) = &args.output {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| DtraceError::Open {
                    path: path.clone(),
                    reason: reason(&e),
                })?;
            self.output = Some(file);
        }
        if args.programs.is_empty() && !args.list {
            return Err(DtraceError::NoProbesSpecified.into());
        }
        let catalog = LiveCatalog::open();
        self.kernel_note = catalog
            .kernel_error()
            .map(|e| format!("kernel probes (syscall, proc, sched, io, sdt) are unavailable: {e}"));
        // -c/-p: the target exists before compiling, for $target.
        let mut targets_proc = Vec::new();
        for cmd in &args.commands {
            let t = run::process::TracedProcess::spawn(cmd).map_err(|e| DtraceError::Process {
                action: format!("execute {cmd}"),
                reason: reason(&e),
            })?;
            targets_proc.push(t);
        }
        for pid in &args.pids {
            let n: i32 = pid.trim().parse().map_err(|_| DtraceError::Process {
                action: format!("grab process {pid}"),
                reason: "invalid process ID".into(),
            })?;
            let t = run::process::TracedProcess::attach(n).map_err(|e| DtraceError::Process {
                action: format!("grab pid {n}"),
                reason: reason(&e),
            })?;
            targets_proc.push(t);
        }
        self.target = targets_proc.first().map(|t| t.pid() as u32);
        for t in &targets_proc {
            catalog.add_process(t.pid() as u32, t.program().map(Into::into));
        }
        if args.list {
            // With -c/-p, their USDT probes are listed too; a -c command
            // is not run for a listing.
            let r = self.list(args, &catalog);
            for t in &mut targets_proc {
                t.kill();
            }
            r?;
            self.out().flush()?;
            return Ok(0);
        }
        // The run's programs compile as one, each seeing what the earlier
        // ones declared (DTrace's programs share one namespace).
        let mut inputs = Vec::new();
        for arg in &args.programs {
            inputs.push(self.program_input(arg, args)?);
        }
        let errtags = self.settings.is_set("errtags");
        let sources: Vec<String> = inputs.iter().map(|(s, _)| s.clone()).collect();
        let run = program::compile_run(inputs, &catalog).map_err(|diag| {
            let i = diag.program.min(args.programs.len() - 1);
            self.compile_failure(&args.programs[i], &sources[i], &diag, errtags)
        })?;
        if args.show_ir {
            write!(self.out(), "{}", run.program)?;
        }
        let compiled = vec![Compiled {
            args: args.programs.clone(),
            compiled: run,
        }];
        self.out().flush()?;
        for c in &compiled {
            self.settings.take_pragmas(&c.compiled.program);
        }
        let targets = Targets::new(&catalog);
        let mut backend = self.settings.backend();
        let mut generated = self.generate_all(&compiled, &targets, backend)?;
        if args.show_ir {
            for g in &generated {
                write!(self.out(), "{}", g.object.disassembly())?;
            }
        }
        self.out().flush()?;
        if args.compile_only {
            return Ok(0);
        }
        if generated.iter().any(|g| !g.object.programs.is_empty())
            && compiled.iter().any(|c| c.compiled.program.destructive)
            && !self.settings.is_set("destructive")
        {
            return Err(
                DtraceError::Tracing("Destructive actions not allowed (use -w)".into()).into(),
            );
        }
        let mut total = 0;
        for c in &compiled {
            let pragma_quiet = c.compiled.program.options.iter().any(|o| o.name == "quiet");
            for (i, arg) in c.args.iter().enumerate() {
                let n = c.compiled.program.matched_probes_of(i);
                total += n;
                if !pragma_quiet {
                    self.notice(&matched_notice(arg, n));
                }
            }
        }
        if total == 0 {
            return Err(DtraceError::NoProbesMatched.into());
        }
        let user = &crate::backend::USER;
        if let Some(why) = backend.refused() {
            if generated.iter().all(|g| g.runs_on(user, &targets)) {
                // No BPF here, but nothing needs the kernel: interpret.
                self.warning(&format!(
                    "the kernel refuses BPF ({why}): running on the user-space backend"
                ));
                backend = user;
                generated = self.generate_all(&compiled, &targets, backend)?;
            }
        }
        for g in &generated {
            program::check_buffer_sizes(&g.object, &self.settings).map_err(DtraceError::Tracing)?;
        }
        let mut instances = Vec::new();
        let mut attachments = Vec::new();
        for (c, g) in compiled.iter().zip(generated) {
            let enabled = program::enable(g, &targets).map_err(|e| match e {
                program::EnableError::Attachment(why) => DtraceError::Tracing(why),
                program::EnableError::Instance(e) => enable_error(&c.args[0], e),
            })?;
            instances.push(enabled.instance);
            attachments.push(enabled.attachments);
        }
        let metrics = args
            .metrics
            .as_deref()
            .map(|addr| (addr, metrics_program(&args.programs)));
        self.run_session(instances, attachments, &catalog, targets_proc, metrics)
    }

    /// Generate every compiled program's code for `backend`; an error
    /// points into the text the compiler read (after the preprocessor).
    fn generate_all(
        &mut self,
        compiled: &[Compiled],
        targets: &Targets<'_>,
        backend: &'static dyn crate::backend::Backend,
    ) -> Result<Vec<program::Generated>, Failure> {
        let errtags = self.settings.is_set("errtags");
        compiled
            .iter()
            .map(|c| {
                program::generate(&c.compiled, targets, &self.settings, backend).map_err(|diag| {
                    let i = diag.program.min(c.args.len() - 1);
                    let source = c.compiled.sources.get(i).map_or("", String::as_str);
                    self.compile_failure(&c.args[i], source, &diag, errtags)
                })
            })
            .collect()
    }

    /// Attach, fire BEGIN, consume, fire END and print: the main loop.
    /// With `metrics` (`--metrics ADDR` and the `program` label), the
    /// aggregations are served over HTTP from BEGIN until the end.
    fn run_session(
        &mut self,
        instances: Vec<run::Instance>,
        attachments: Vec<Vec<crate::target::Attachment>>,
        catalog: &LiveCatalog,
        mut targets_proc: Vec<run::process::TracedProcess>,
        metrics: Option<(&str, String)>,
    ) -> Result<i32, Failure> {
        run::session::install_signal_handlers();
        // Listen before attaching, so a bad address fails before any probe
        // fires; the server lives to the end of this function, END included.
        let feed = std::sync::Arc::new(run::session::AggregationFeed::new());
        let metrics_server = match metrics {
            Some((addr, program)) => Some(self.serve_metrics(addr, program, &feed)?),
            None => None,
        };
        let out_opts = self.settings.output_options();
        let poll_ms = self.settings.poll_ms();
        let tracefs = catalog.tracefs().cloned();
        let (out, err): (&mut dyn Write, &mut dyn Write) = match self.output.as_mut() {
            Some(f) => (f, &mut *self.console.err),
            None => (&mut *self.console.out, &mut *self.console.err),
        };
        let mut session =
            run::Session::attach(instances, attachments, tracefs.as_ref(), out, err, out_opts)
                .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        if metrics_server.is_some() {
            session.set_feed(std::sync::Arc::clone(&feed));
        }
        let signals_before = run::session::SIGNALS.load(std::sync::atomic::Ordering::SeqCst);
        session
            .begin()
            .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        for t in &mut targets_proc {
            t.release();
        }
        let has_targets = !targets_proc.is_empty();
        let stop = session
            .run(poll_ms, signals_before, |release| {
                use run::session::TargetStatus;
                if !has_targets {
                    return TargetStatus::Running;
                }
                if release {
                    for t in targets_proc.iter_mut().filter(|t| t.held()) {
                        t.finish();
                    }
                    return TargetStatus::Running;
                }
                if targets_proc.iter().any(|t| t.held()) {
                    TargetStatus::Held
                } else if targets_proc.iter_mut().all(|t| t.exited()) {
                    TargetStatus::Gone
                } else {
                    TargetStatus::Running
                }
            })
            .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        if stop == run::session::Stop::Signal {
            session
                .newline()
                .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        }
        session
            .end()
            .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        Ok(session.exit_status().unwrap_or(0) & 0xff)
    }

    /// `--metrics`: serve `feed`'s snapshots at `addr` and say where, even
    /// with -q (a scraper needs the port when `addr` asked for port 0).
    fn serve_metrics(
        &mut self,
        addr: &str,
        program: String,
        feed: &std::sync::Arc<run::session::AggregationFeed>,
    ) -> Result<crate::metrics::MetricsServer, Failure> {
        use crate::metrics::{render, serve, MetricSource};
        let feed = std::sync::Arc::clone(feed);
        let server = serve(addr, move || {
            // The loop answers within its poll interval (≤ switchrate);
            // 2 s covers a loop busy with a burst, after which the last
            // snapshot (or nothing, before the first) is served.
            let aggregations = feed
                .snapshot(std::time::Duration::from_secs(2))
                .unwrap_or_default();
            render(&[MetricSource {
                program: &program,
                aggregations: &aggregations,
            }])
        })
        .map_err(|e| DtraceError::Tracing(e.to_string()))?;
        self.warning(&format!(
            "serving metrics on http://{}/metrics",
            server.local_addr()
        ));
        Ok(server)
    }

    /// Validate and record every option setting, in order.
    fn apply_settings(&mut self, args: &DtraceArgs) -> Result<(), Failure> {
        let mut ignored = Vec::new();
        for s in &args.settings {
            let value = options::parse_option(&s.name, s.value.as_deref()).map_err(|source| {
                DtraceError::SetOption {
                    culprit: s.culprit(),
                    source,
                }
            })?;
            let supported = options::spec(&s.name).is_some_and(|spec| spec.supported);
            if !supported && s.origin == SettingOrigin::X {
                ignored.push(s.name.clone());
            }
            match (s.name.as_str(), &value) {
                ("define", OptionValue::Text(v)) => self.settings.cpp_args.push(format!("-D{v}")),
                ("undef", OptionValue::Text(v)) => self.settings.cpp_args.push(format!("-U{v}")),
                ("incdir", OptionValue::Text(v)) => self.settings.cpp_args.push(format!("-I{v}")),
                _ => {}
            }
            self.settings.set(&s.name, value);
        }
        self.settings.cpp_args.extend(args.cpp_args.iter().cloned());
        for name in ignored {
            self.notice(&format!(
                "option {name} is not supported by Lumen yet and is ignored"
            ));
        }
        Ok(())
    }

    /// `-h` and `-G`: compile the programs for their provider
    /// declarations (descriptions need match nothing, as with `-Z`) and
    /// write the C header or the object. Nothing is traced, so neither
    /// root nor the kernel's probes are needed.
    fn provider_files(&mut self, args: &DtraceArgs) -> Result<i32, Failure> {
        use crate::provider_files;
        self.settings
            .values
            .insert("zdefs".into(), OptionValue::Set);
        // -G's operands are the program's objects, not macro arguments.
        let mut compile_args = args.clone();
        let objects = std::mem::take(&mut compile_args.operands);
        let catalog = LiveCatalog::without_kernel();
        let mut providers = Vec::new();
        for arg in &args.programs {
            let c = self.compile(arg, &compile_args, &catalog)?;
            providers.extend(c.program.providers);
        }
        let suffix = if args.header { "h" } else { "o" };
        let out = match (&args.output, args.programs.first()) {
            (Some(path), _) => std::path::PathBuf::from(path),
            (None, Some(ProgramArg::Script(file))) => {
                std::path::Path::new(file.strip_suffix(".d").unwrap_or(file)).with_extension(suffix)
            }
            (None, _) => std::path::PathBuf::from(if args.header { "d.h" } else { "d.out" }),
        };
        let failed = |e: provider_files::ProviderFileError| DtraceError::Tracing(e.to_string());
        if args.header {
            let text =
                provider_files::header(&providers, &provider_files::guard(&out)).map_err(failed)?;
            std::fs::write(&out, text).map_err(|e| DtraceError::Open {
                path: out.display().to_string(),
                reason: reason(&e),
            })?;
        } else {
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
            provider_files::write_object(&providers, &objects, &out, &cc).map_err(failed)?;
        }
        Ok(0)
    }

    fn compile_options(&self, origin: Origin, zeroth: &str, args: &DtraceArgs) -> CompileOptions {
        let macro_args = std::iter::once(zeroth.to_string())
            .chain(args.operands.iter().cloned())
            .collect();
        self.settings
            .compile_options(origin, macro_args, self.target)
    }

    /// Compile one program; errors come back worded for the command line.
    fn compile(
        &mut self,
        arg: &ProgramArg,
        args: &DtraceArgs,
        catalog: &LiveCatalog,
    ) -> Result<program::Compiled, Failure> {
        let errtags = self.settings.is_set("errtags");
        let (source, opts) = self.program_input(arg, args)?;
        program::compile(source.clone(), &opts, catalog)
            .map_err(|diag| self.compile_failure(arg, &source, &diag, errtags))
    }

    /// A program's text (read, preprocessed with `-C`) and its compile
    /// options.
    fn program_input(
        &mut self,
        arg: &ProgramArg,
        args: &DtraceArgs,
    ) -> Result<(String, CompileOptions), Failure> {
        let (source, opts) = match arg {
            ProgramArg::Script(file) => {
                let text = std::fs::read_to_string(file).map_err(|e| DtraceError::Open {
                    path: file.clone(),
                    reason: reason(&e),
                })?;
                let text = if self.settings.is_set("cpp") {
                    let cpp_path = self.settings.text("cpppath").unwrap_or(cpp::DEFAULT_CPP);
                    cpp::preprocess(cpp_path, &self.settings.cpp_args, file, &text).map_err(
                        |e| DtraceError::CompileScript {
                            file: file.clone(),
                            body: e.to_string(),
                        },
                    )?
                } else {
                    text
                };
                (
                    text,
                    self.compile_options(Origin::File(file.clone()), file, args),
                )
            }
            ProgramArg::Spec(field, text) => (
                text.clone(),
                self.compile_options(Origin::Spec(*field), "dtrace", args),
            ),
            ProgramArg::ProbeId(text) => (
                text.clone(),
                self.compile_options(Origin::ProbeId, "dtrace", args),
            ),
        };
        Ok((source, opts))
    }

    fn compile_failure(
        &self,
        arg: &ProgramArg,
        source: &str,
        diag: &Diagnostic,
        errtags: bool,
    ) -> Failure {
        let error = match arg {
            ProgramArg::Script(file) => DtraceError::CompileScript {
                file: file.clone(),
                body: diag.body(errtags, true),
            },
            other => DtraceError::InvalidSpecifier {
                spec: other.text().to_string(),
                body: diag.body(errtags, false),
            },
        };
        let snippet = if self.console.err_is_terminal {
            snippet::caret_snippet(source, diag)
        } else {
            None
        };
        Failure {
            error,
            snippet,
            kernel_hint: diag.tag == ErrTag::D_PDESC_ZERO,
        }
    }

    /// `-l`: list the probes each program names (all probes when none).
    fn list(&mut self, args: &DtraceArgs, catalog: &LiveCatalog) -> Result<(), Failure> {
        write!(self.out(), "{}", listing::header())?;
        let zdefs = self.settings.is_set("zdefs");
        if args.programs.is_empty() {
            for probe in catalog.list(&ProbeDesc::default()) {
                self.list_probe(probe, args.verbose, catalog)?;
            }
            return Ok(());
        }
        for arg in &args.programs {
            let probes: Vec<ProbeInfo> = match arg {
                ProgramArg::Spec(field, text) => {
                    // `$target` and `$pid` in a description, as the
                    // compiler expands them (pid$target::malloc:entry).
                    let mut text = text.clone();
                    if let Some(t) = self.target {
                        text = text.replace("$target", &t.to_string());
                    }
                    text = text.replace("$pid", &std::process::id().to_string());
                    let text = &text;
                    let desc = ProbeDesc::parse(text, *field).map_err(|body| {
                        DtraceError::InvalidSpecifier {
                            spec: text.clone(),
                            body,
                        }
                    })?;
                    let probes = catalog.list(&desc);
                    if probes.is_empty() && !zdefs {
                        self.out().flush()?;
                        return Err(DtraceError::NoMatch {
                            desc: desc.to_string(),
                        }
                        .into());
                    }
                    probes
                }
                ProgramArg::ProbeId(text) => {
                    let id =
                        text.trim()
                            .parse::<u32>()
                            .map_err(|_| DtraceError::InvalidSpecifier {
                                spec: text.clone(),
                                body: format!("invalid probe identifier {text}"),
                            })?;
                    match catalog.by_id(id) {
                        Some(p) => vec![p],
                        None if zdefs => Vec::new(),
                        None => {
                            self.out().flush()?;
                            return Err(DtraceError::NoMatch {
                                desc: format!("probe ID {id}"),
                            }
                            .into());
                        }
                    }
                }
                ProgramArg::Script(_) => {
                    let c = self.compile(arg, args, catalog)?;
                    c.program
                        .clauses
                        .into_iter()
                        .flat_map(|c| c.probes)
                        .collect()
                }
            };
            for probe in probes {
                self.list_probe(probe, args.verbose, catalog)?;
            }
        }
        Ok(())
    }

    fn list_probe(
        &mut self,
        probe: ProbeInfo,
        verbose: bool,
        catalog: &LiveCatalog,
    ) -> Result<(), Failure> {
        let out = self.out();
        out.write_all(listing::row(&probe).as_bytes())?;
        if verbose {
            let args = if probe.args.is_empty() {
                catalog.args(probe.id)
            } else {
                probe.args
            };
            out.write_all(listing::verbose_block(&probe.provider, &args).as_bytes())?;
        }
        Ok(())
    }
}

/// `script 'F' matched N probes` or `description 'D' matched N probes`.
/// The error for a program the kernel refused, with the verifier log's end.
fn enable_error(arg: &ProgramArg, e: run::InstanceError) -> DtraceError {
    let what = match arg {
        ProgramArg::Script(f) => format!("script '{f}'"),
        ProgramArg::Spec(_, t) | ProgramArg::ProbeId(t) => format!("'{}'", description_name(t)),
    };
    let reason = match &e {
        run::InstanceError::Load { source, .. } if !source.log.is_empty() => {
            let lines: Vec<&str> = source.log.lines().collect();
            let tail = lines[lines.len().saturating_sub(12)..].join("\n");
            format!("{e}\nverifier log (last lines):\n{tail}")
        }
        _ => e.to_string(),
    };
    DtraceError::Enable { what, reason }
}

fn matched_notice(arg: &ProgramArg, n: usize) -> String {
    let plural = if n == 1 { "" } else { "s" };
    match arg {
        ProgramArg::Script(file) => format!("script '{file}' matched {n} probe{plural}"),
        other => format!(
            "description '{}' matched {n} probe{plural}",
            description_name(other.text())
        ),
    }
}

/// The `program` label of `--metrics`: the first script's name without
/// its directory and `.d`, else the first description as the `matched`
/// notice names it (`syscall::read:entry`), else `dtrace`.
fn metrics_program(programs: &[ProgramArg]) -> String {
    let name = match programs.first() {
        Some(ProgramArg::Script(file)) => std::path::Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        Some(other) => description_name(other.text()).trim().to_string(),
        None => String::new(),
    };
    if name.is_empty() {
        "dtrace".to_string()
    } else {
        name
    }
}

/// The description part of a probe specifier: the text before its first `{`, `/` or `;`.
pub fn description_name(spec: &str) -> &str {
    spec.find(['{', '/', ';']).map_or(spec, |i| &spec[..i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use d_lang::catalog::DescField;

    fn run_args(args: &[&str]) -> (i32, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run(
            &args,
            &mut Console {
                out: &mut out,
                err: &mut err,
                err_is_terminal: false,
            },
        );
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn description_names() {
        assert_eq!(description_name("BEGIN { exit(0); }"), "BEGIN ");
        assert_eq!(
            description_name("syscall::read:entry/pid == 1/"),
            "syscall::read:entry"
        );
        assert_eq!(description_name("BEGIN;END"), "BEGIN");
        assert_eq!(description_name("tick-1s"), "tick-1s");
        assert_eq!(
            matched_notice(&ProgramArg::Script("a.d".into()), 1),
            "script 'a.d' matched 1 probe"
        );
        assert_eq!(
            matched_notice(&ProgramArg::Spec(DescField::Name, "BEGIN{}".into()), 3),
            "description 'BEGIN' matched 3 probes"
        );
    }

    #[test]
    fn metrics_program_names() {
        let name = |args: &[ProgramArg]| metrics_program(args);
        assert_eq!(
            name(&[ProgramArg::Script("/x/vmexits.d".into())]),
            "vmexits"
        );
        assert_eq!(
            name(&[
                ProgramArg::Spec(DescField::Name, "syscall::read:entry /pid == 1/ { }".into()),
                ProgramArg::Script("a.d".into())
            ]),
            "syscall::read:entry"
        );
        assert_eq!(
            name(&[ProgramArg::Spec(DescField::Name, "{}".into())]),
            "dtrace"
        );
        assert_eq!(name(&[]), "dtrace");
    }

    #[test]
    fn metrics_bad_address() {
        let (status, _, err) = run_args(&["--metrics", "nowhere", "-n", "BEGIN { exit(0); }"]);
        assert_eq!(status, 1, "{err}");
        assert!(err.contains("bad metrics address 'nowhere'"), "{err}");
    }

    #[test]
    fn usage_and_options() {
        let (status, out, err) = run_args(&[]);
        assert_eq!((status, out.as_str()), (2, ""));
        assert!(err.starts_with("Usage: dtrace [-32|-64]"));
        let (status, _, err) = run_args(&["-k"]);
        assert_eq!(status, 2);
        assert!(err.starts_with("dtrace: invalid option -- 'k'\nUsage: dtrace"));
        let (status, _, err) = run_args(&["-x", "nosuch", "-n", "BEGIN"]);
        assert_eq!(
            (status, err.as_str()),
            (1, "dtrace: failed to set -x nosuch: Invalid option name\n")
        );
        let (status, _, err) = run_args(&["-xbufsize=lots", "-n", "BEGIN"]);
        assert_eq!(
            (status, err.as_str()),
            (
                1,
                "dtrace: failed to set -x bufsize: Invalid value for specified option\n"
            )
        );
        let (status, _, err) = run_args(&["-b", "huge", "-n", "BEGIN"]);
        assert_eq!(
            (status, err.as_str()),
            (
                1,
                "dtrace: failed to set -b huge: Invalid value for specified option\n"
            )
        );
        let (status, out, _) = run_args(&["-V"]);
        assert_eq!(
            (status, out.as_str()),
            (0, format!("{VERSION_LINE}\n").as_str())
        );
        let (status, _, err) = run_args(&["-A", "-s", "x.d"]);
        assert_eq!(
            (status, err.as_str()),
            (1, "dtrace: -A is not supported by Lumen yet\n")
        );
        let (status, _, err) = run_args(&["-q"]);
        assert_eq!((status, err.as_str()), (1, "dtrace: no probes specified\n"));
    }

    #[test]
    fn missing_script() {
        let (status, _, err) = run_args(&["-q", "-e", "-s", "/nonexistent/x.d"]);
        assert_eq!(
            (status, err.as_str()),
            (
                1,
                "dtrace: failed to open /nonexistent/x.d: No such file or directory\n"
            )
        );
    }
}
