//! The D compiler: D source text in, a typed and checked [`ir::Program`] out.
//!
//! The engine calls [`compile`] for each `-s` script and `-n`/`-P`/`-m`/`-f`/`-i`
//! argument; it passes a [`catalog::ProbeCatalog`] built from the live system.
//! The stages read top-down as in libdtrace (see DESIGN.md, "The D pipeline"):
//! [`lexer`] → [`parser`] ([`ast`]) → [`resolve`] (types from [`types`], built-ins
//! from [`builtins`]) → [`ir`]. Code generation lowers [`ir`] to eBPF. This
//! crate makes no syscalls: errors are [`diag::Diagnostic`]s in DTrace's format.

#![warn(missing_docs)]

pub mod ast;
pub mod builtins;
pub mod catalog;
pub mod codegen;
pub mod diag;
pub mod ir;
pub mod lexer;
pub mod options;
pub mod parser;
pub mod prelude;
pub mod printf;
pub mod resolve;
pub mod span;
pub mod types;

pub use catalog::{DescField, ProbeCatalog, ProbeDesc, ProbeInfo};
pub use diag::{Diagnostic, ErrTag};

/// Where the text being compiled came from; it decides how probe
/// specifiers align and whether a bare probe description is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A script file (`-s FILE`), named as typed.
    File(String),
    /// A probe specifier string: `-n` (ends at name), `-P`, `-m`, `-f`.
    Spec(DescField),
    /// `-i ID`: a probe by its numeric ID.
    ProbeId,
}

/// Values the compiler substitutes and flags that change what it accepts.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Where the source came from.
    pub origin: Origin,
    /// Macro arguments: `$0` is the script name, `$1…` the operands after it.
    pub macro_args: Vec<String>,
    /// `$pid`, `$ppid`, `$uid`, `$gid` of the tracer itself.
    pub pid: u32,
    /// `$ppid`.
    pub ppid: u32,
    /// `$uid`.
    pub uid: u32,
    /// `$gid`.
    pub gid: u32,
    /// `$target`: the `-c`/`-p` process, if any.
    pub target: Option<u32>,
    /// `-Z` / `zdefs`: allow descriptions that match no probes.
    pub zdefs: bool,
    /// `defaultargs`: undefined macro arguments are 0 or "".
    pub defaultargs: bool,
    /// `-w` / `destructive`: allow destructive actions.
    pub destructive: bool,
}

impl CompileOptions {
    /// Options for compiling `origin` with no macro arguments.
    pub fn new(origin: Origin) -> Self {
        CompileOptions {
            origin,
            macro_args: Vec::new(),
            pid: 0,
            ppid: 0,
            uid: 0,
            gid: 0,
            target: None,
            zdefs: false,
            defaultargs: false,
            destructive: false,
        }
    }
}

/// Compile D source into a typed program, or the first error as DTrace reports it.
///
/// The returned diagnostic has its `line` (and `file`, after `-C` line
/// markers) filled in from its span.
pub fn compile(
    source: &str,
    opts: &CompileOptions,
    catalog: &dyn ProbeCatalog,
) -> Result<ir::Program, Diagnostic> {
    let finish = |mut d: Diagnostic| {
        if let Some(span) = d.span {
            let (file, line) = lexer::line_of(source, span.start);
            d.line = line;
            d.file = file;
        }
        d
    };
    let ast = parser::parse(source, opts).map_err(finish)?;
    resolve::resolve(&ast, opts, catalog).map_err(finish)
}
