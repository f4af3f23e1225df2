//! The D compiler: D source text in, a typed and checked [`ir::Program`] out.
//!
//! The engine calls [`compile`] for each `-s` script and `-n`/`-P`/`-m`/`-f`/`-i`
//! argument; it passes a [`catalog::ProbeCatalog`] built from the live system.
//! The stages read top-down as in libdtrace (see DESIGN.md, "The D pipeline"):
//! [`lexer`] ([`token`]s) → [`parser`] ([`ast`]) → [`resolve`] (which compiles
//! the [`prelude`] first; types from [`types`], built-ins from [`builtins`]) →
//! [`ir`] → [`codegen`] (eBPF). Each stage imports only the stages before it
//! and the shared leaves ([`span`], [`diag`], [`options`], [`catalog`]…), never
//! this file (`tests/module_graph.rs` checks). This crate makes no syscalls:
//! errors are [`diag::Diagnostic`]s in DTrace's format.

#![warn(missing_docs)]

pub mod ast;
pub mod builtins;
pub mod catalog;
pub mod codegen;
pub mod diag;
pub mod ir;
pub mod lexer;
pub mod library;
pub mod options;
pub mod parser;
pub mod printf;
mod recursion;
pub mod resolve;
pub mod span;
pub mod token;
pub mod types;

pub use catalog::{DescField, ProbeCatalog, ProbeDesc, ProbeInfo};
pub use diag::{Diagnostic, ErrTag};
pub use options::{CompileOptions, Origin};
/// The prelude moved under [`resolve`], which compiles it; kept here for the engine.
pub use resolve::prelude;

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
