//! One D program's pipeline, the same for every caller — dtrace(1)
//! ([`crate::command`]), live programs ([`crate::live`]: `lumen top`'s
//! panels, `vmadm exitstat`): compile against the live catalogue, generate
//! code for a backend, instantiate it (maps made, programs loaded), and
//! name what each program attaches to. Each step is a function from the
//! previous step's output to its own; the run itself ([`crate::run`])
//! starts from [`Enabled`].
//!
//! [`Settings`] holds the option values in force (`-x`, `#pragma D
//! option`) and turns them into what each step needs: compile options,
//! code generation options, output options.

use crate::backend::Backend;
use crate::catalog::LiveCatalog;
use crate::run::{self, Instance, InstanceError};
use crate::target::{Attachment, Targets};
use d_lang::codegen::{CodegenOptions, MapKind, MapRole, Object};
use d_lang::options::OptionValue;
use d_lang::{CompileOptions, Diagnostic, Origin};
use std::collections::HashMap;

/// Option values in force, last setting wins.
#[derive(Debug, Default, Clone)]
pub struct Settings {
    /// Every option set, by name.
    pub values: HashMap<String, OptionValue>,
    /// Preprocessor arguments from `-D -U -I -H` and `-x define/undef/incdir`.
    pub cpp_args: Vec<String>,
    /// The macro arguments the run's programs have named so far.
    pub macro_refs: d_lang::options::MacroRefs,
}

impl Settings {
    /// Whether option `name` is set.
    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A text option's value.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(OptionValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// A numeric option's value.
    pub fn number(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some(OptionValue::Number(n)) => Some(*n),
            _ => None,
        }
    }

    /// Record option `name`'s checked value; a boolean turned off
    /// (`=no`) is as if never set.
    pub fn set(&mut self, name: &str, value: OptionValue) {
        if value == OptionValue::Unset {
            self.values.remove(name);
        } else {
            self.values.insert(name.to_string(), value);
        }
    }

    /// Take up a program's `#pragma D option` settings: they act like
    /// `-x` for the whole run.
    pub fn take_pragmas(&mut self, program: &d_lang::ir::Program) {
        for o in &program.options {
            if let Ok(v) = d_lang::options::parse_option(&o.name, o.value.as_deref()) {
                self.set(&o.name, v);
            }
        }
    }

    /// The backend `-x backend=` asks for (the kernel's by default).
    pub fn backend(&self) -> &'static dyn Backend {
        crate::backend::named(self.text("backend"))
    }

    /// Code generation settings.
    pub fn codegen_options(&self, backend: &dyn Backend) -> CodegenOptions {
        let mut c = CodegenOptions::default();
        if let Some(n) = self.number("strsize") {
            c.strsize = (n.clamp(16, 1024) as u32).div_ceil(8) * 8;
        }
        if let Some(n) = self.number("bufsize") {
            c.bufsize = n.clamp(4096, 1 << 30) as u32;
        }
        if let Some(n) = self.number("dynvarsize") {
            c.dynvarsize = n;
        }
        if let Some(n) = self.number("aggsize") {
            c.aggsize = n;
        }
        if let Some(n) = self.number("scratchsize") {
            c.scratchsize = (n.clamp(8, 16 << 10) as u32).div_ceil(8) * 8;
        }
        if let Some(n) = self.number("nspec") {
            c.nspec = n.clamp(1, 64) as u32;
        }
        if let Some(n) = self.number("stackframes") {
            c.stackframes = n.clamp(1, 127) as u32;
        }
        if let Some(n) = self.number("ustackframes") {
            c.ustackframes = n.clamp(1, 127) as u32;
        }
        c.portable = backend.portable();
        c
    }

    /// How long the consumer may wait for records: `switchrate`, at most 1 s.
    pub fn poll_ms(&self) -> i32 {
        self.number("switchrate")
            .map_or(100, |ns| (ns / 1_000_000).clamp(1, 1000) as i32)
    }

    /// The consumer's output settings.
    pub fn output_options(&self) -> run::session::OutputOptions {
        let defaults = run::session::OutputOptions::default();
        let count = |name: &str| self.number(name).unwrap_or(0) as usize;
        run::session::OutputOptions {
            quiet: self.is_set("quiet"),
            sort: crate::model::aggregation::AggSortOptions {
                sortkey: self.is_set("aggsortkey"),
                sortrev: self.is_set("aggsortrev"),
                sortpos: count("aggsortpos"),
                sortkeypos: count("aggsortkeypos"),
            },
            rawbytes: self.is_set("rawbytes"),
            flowindent: self.is_set("flowindent"),
            droptags: self.is_set("droptags"),
            bufpolicy: match self.text("bufpolicy") {
                Some("fill") => run::session::BufPolicy::Fill,
                Some("ring") => run::session::BufPolicy::Ring,
                _ => run::session::BufPolicy::Switch,
            },
            bufsize: self.number("bufsize").unwrap_or(defaults.bufsize),
            specsize: self.number("specsize").unwrap_or(defaults.specsize),
        }
    }

    /// Compile options for a program this process runs, from `origin`,
    /// with macro arguments `$0 $1 …` (`macro_args`), `$target` the first
    /// `-c`/`-p` process (`target`), and the tracer's own `$pid $ppid $uid
    /// $gid`.
    pub fn compile_options(
        &self,
        origin: Origin,
        macro_args: Vec<String>,
        target: Option<u32>,
    ) -> CompileOptions {
        let mut opts = CompileOptions::new(origin);
        opts.macro_args = macro_args;
        opts.pid = std::process::id();
        opts.ppid = std::os::unix::process::parent_id();
        opts.uid = nix::unistd::getuid().as_raw();
        opts.gid = nix::unistd::getgid().as_raw();
        opts.euid = nix::unistd::geteuid().as_raw();
        opts.egid = nix::unistd::getegid().as_raw();
        opts.pgid = nix::unistd::getpgrp().as_raw() as u32;
        opts.sid = nix::unistd::getsid(None).map_or(0, |s| s.as_raw() as u32);
        opts.empty = self.is_set("empty");
        opts.argref = self.is_set("argref");
        opts.macro_refs = self.macro_refs.clone();
        opts.zdefs = self.is_set("zdefs");
        opts.defaultargs = self.is_set("defaultargs");
        opts.destructive = self.is_set("destructive");
        opts.target = target;
        opts
    }
}

/// A compiled program: the texts the compiler read (after the
/// preprocessor, so a later diagnostic can point into them: one per
/// program of the run, in order) and its IR.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The source of each of the run's programs, as compiled.
    pub sources: Vec<String>,
    /// The typed program (all of the run's programs as one).
    pub program: d_lang::ir::Program,
}

/// Compile `source` against `catalog`.
pub fn compile(
    source: String,
    opts: &CompileOptions,
    catalog: &LiveCatalog,
) -> Result<Compiled, Diagnostic> {
    let program = d_lang::compile(&source, opts, catalog)?;
    Ok(Compiled {
        sources: vec![source],
        program,
    })
}

/// Compile a run's programs (`-n`, `-s`… in order) as one, sharing their
/// variables and aggregations as DTrace's programs do; an error's
/// `program` says whose it is.
pub fn compile_run(
    programs: Vec<(String, CompileOptions)>,
    catalog: &LiveCatalog,
) -> Result<Compiled, Diagnostic> {
    let refs: Vec<(&str, &CompileOptions)> =
        programs.iter().map(|(s, o)| (s.as_str(), o)).collect();
    let program = d_lang::compile_run(&refs, catalog)?;
    Ok(Compiled {
        sources: programs.into_iter().map(|(s, _)| s).collect(),
        program,
    })
}

/// A program's code for one backend, with what each of its programs is
/// attached to.
#[derive(Debug)]
pub struct Generated {
    /// The eBPF programs, maps and record descriptions.
    pub object: Object,
    /// The backend it was generated for.
    pub backend: &'static dyn Backend,
}

/// Generate `compiled`'s code for `backend`.
pub fn generate(
    compiled: &Compiled,
    targets: &Targets<'_>,
    settings: &Settings,
    backend: &'static dyn Backend,
) -> Result<Generated, Diagnostic> {
    let object = d_lang::codegen::generate(
        &compiled.program,
        targets,
        &settings.codegen_options(backend),
    )
    .map_err(|d| {
        let source = compiled.sources.get(d.program).map_or("", String::as_str);
        d_lang::locate(source, d)
    })?;
    Ok(Generated { object, backend })
}

impl Generated {
    /// Whether every program could run on `backend`.
    pub fn runs_on(&self, backend: &dyn Backend, targets: &Targets<'_>) -> bool {
        self.object
            .programs
            .iter()
            .all(|p| targets.attachment(&p.probe).is_ok_and(|a| backend.runs(&a)))
    }
}

/// DTrace's start-up check that each buffer can hold at least one of what
/// the program puts in it: a record of its largest enabling in `bufsize`,
/// an entry of its largest aggregation in `aggsize`, and of its largest
/// associative array or thread-local in `dynvarsize`. Anything smaller is
/// `Enabling exceeds size of buffer`, before a map is made.
pub fn check_buffer_sizes(object: &Object, settings: &Settings) -> Result<(), String> {
    const EXCEEDS: &str = "Enabling exceeds size of buffer";
    let limit = |name: &str, default: u64| settings.number(name).unwrap_or(default);
    let record = object.enablings.iter().map(|e| u64::from(e.size)).max();
    if record.is_some_and(|size| size > limit("bufsize", 4 << 20)) {
        return Err(EXCEEDS.into());
    }
    let agg = object
        .aggs
        .iter()
        .map(|a| u64::from(a.key_size) + u64::from(a.value_size))
        .max();
    if agg.is_some_and(|size| size > limit("aggsize", 4 << 20)) {
        return Err(EXCEEDS.into());
    }
    let dynvar = object
        .maps
        .iter()
        .filter(|m| matches!(m.role, MapRole::Variable(_)) && m.kind == MapKind::Hash)
        .map(|m| u64::from(m.key_size) + u64::from(m.value_size))
        .max();
    if dynvar.is_some_and(|size| size > limit("dynvarsize", 1 << 20)) {
        return Err(EXCEEDS.into());
    }
    Ok(())
}

/// Why a generated program could not be enabled.
#[derive(Debug, thiserror::Error)]
pub enum EnableError {
    /// A probe has nothing to attach to.
    #[error("{0}")]
    Attachment(String),
    /// Loading its maps or programs failed.
    #[error(transparent)]
    Instance(#[from] InstanceError),
}

/// A program ready to run: loaded, and with the attachment of each of its
/// programs.
pub struct Enabled {
    /// Maps and programs, loaded.
    pub instance: Instance,
    /// What each program attaches to, in the object's program order.
    pub attachments: Vec<Attachment>,
}

/// Load `generated` (maps made, programs verified and loaded) and name
/// each program's attachment.
pub fn enable(generated: Generated, targets: &Targets<'_>) -> Result<Enabled, EnableError> {
    let attachments = generated
        .object
        .programs
        .iter()
        .map(|p| targets.program_attachment(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(EnableError::Attachment)?;
    let instance = Instance::new(generated.object, generated.backend)?;
    Ok(Enabled {
        instance,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_each_steps_options() {
        let mut s = Settings::default();
        for (name, value) in [
            ("strsize", Some("100")),
            ("bufpolicy", Some("ring")),
            ("switchrate", Some("10ms")),
            ("quiet", None),
            ("backend", Some("user")),
        ] {
            let v = d_lang::options::parse_option(name, value).expect("valid option");
            s.values.insert(name.into(), v);
        }
        assert_eq!(s.backend().name(), "user");
        let c = s.codegen_options(s.backend());
        assert_eq!(c.strsize, 104);
        assert!(c.portable);
        assert_eq!(s.poll_ms(), 10);
        let o = s.output_options();
        assert!(o.quiet);
        assert_eq!(o.bufpolicy, run::session::BufPolicy::Ring);
        let opts = s.compile_options(Origin::ProbeId, vec!["dtrace".into()], Some(42));
        assert_eq!(opts.target, Some(42));
        assert_eq!(opts.pid, std::process::id());
    }
}
