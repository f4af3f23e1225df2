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
    let finish = |d: Diagnostic| locate(source, d);
    let ast = parser::parse(source, opts).map_err(finish)?;
    macro_unused(source, opts).map_err(finish)?;
    let program = resolve::resolve(&ast, source, opts, catalog).map_err(finish)?;
    // DTrace checks declarations while parsing, so their errors come
    // before an empty program's; a program with nothing but them (and
    // pragmas) resolves to its declarations alone.
    empty(source, &ast, opts).map_err(finish)?;
    Ok(program)
}

/// Compile a run's programs (`-n`, `-s`… in command-line order) into one
/// program, each seeing what the earlier ones declared, as DTrace's do.
/// Each clause records which program it came from. An error names the
/// program it is in (`Diagnostic::program`) and is located in its text.
pub fn compile_run(
    programs: &[(&str, &CompileOptions)],
    catalog: &dyn ProbeCatalog,
) -> Result<ir::Program, Diagnostic> {
    let Some((_, first)) = programs.first() else {
        return Ok(ir::Program::default());
    };
    let mut run = resolve::RunResolver::new(first, catalog);
    for (i, (source, opts)) in programs.iter().enumerate() {
        let finish = |mut d: Diagnostic| {
            d.program = i;
            locate(source, d)
        };
        let ast = parser::parse(source, opts).map_err(finish)?;
        macro_unused(source, opts).map_err(finish)?;
        run.add(&ast, source, opts).map_err(finish)?;
        empty(source, &ast, opts).map_err(finish)?;
    }
    Ok(run.finish())
}

/// Fill in a diagnostic's `line` (and `file`, after `-C` line markers)
/// from its span in `source`: for errors found after [`compile`], such as
/// code generation's.
pub fn locate(source: &str, mut d: Diagnostic) -> Diagnostic {
    if let Some(span) = d.span {
        let (file, line) = lexer::line_of(source, span.start);
        d.line = line;
        d.file = file;
    }
    d
}

/// An operand no program has named so far (`D_MACRO_UNUSED`: only the
/// last is checked), at the input's last line.
fn macro_unused(source: &str, opts: &CompileOptions) -> Result<(), Diagnostic> {
    let end = span::Span::new(source.len(), source.len());
    let last = opts.macro_args.len().saturating_sub(1);
    if last >= 1 && !opts.argref && !opts.macro_refs.contains(last) {
        return Err(diag::diag(
            ErrTag::D_MACRO_UNUSED,
            end,
            format!(
                "extraneous argument '{}' (${last} is not referenced)",
                opts.macro_args[last]
            ),
        ));
    }
    Ok(())
}

/// A program with no clause, inline, translator or provider (`D_EMPTY`),
/// at the input's last line.
fn empty(source: &str, ast: &ast::Script, opts: &CompileOptions) -> Result<(), Diagnostic> {
    let end = span::Span::new(source.len(), source.len());
    let has_item = ast.items.iter().any(|i| {
        matches!(
            i,
            ast::Item::Clause(_)
                | ast::Item::Inline(_)
                | ast::Item::Translator(_)
                | ast::Item::Provider(_)
        )
    });
    if !has_item && !opts.empty {
        return Err(diag::diag(
            ErrTag::D_EMPTY,
            end,
            "empty D program translation unit",
        ));
    }
    Ok(())
}
