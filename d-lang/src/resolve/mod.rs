//! Resolution and type checking: [`ast::Script`] in, typed [`ir::Program`] out.
//!
//! The [`prelude`]'s types are declared first. Then one pass over the items
//! in source order, as libdtrace cooks them: declarations define types and
//! variables (`typing`); each clause's descriptions are matched through the
//! [`ProbeCatalog`]; its predicate and statements are typed with D's rules —
//! expressions (`expr`, `names`, `members`, `operators`, `assign`) and calls
//! (`call`, `action`, `format`, `aggregate`, `speculation`) — creating
//! variables and aggregations at their first assignment. The first error
//! stops compilation, carrying DTrace's tag and wording.

mod action;
mod aggregate;
mod assign;
mod call;
mod declare;
mod expr;
mod format;
mod key_name;
mod members;
mod names;
mod operators;
pub mod prelude;
mod speculation;
mod typing;

use crate::ast::{self, Item};
use crate::catalog::{DescField, ProbeCatalog, ProbeDesc, ProbeInfo};
use crate::diag::{diag, DResult, ErrTag, Region};
use crate::ir::{self, AggId, Program, Scope, VarId};
use crate::options::{CompileOptions, Origin};
use crate::span::Span;
use crate::types::Type;
use std::collections::HashMap;

pub use typing::TypeTable;

/// Translators from kernel types to `psinfo_t` and `lwpsinfo_t`.
pub const PROCFS_LIBRARY: &str = include_str!("../../lib/procfs.d");

/// Resolve and type-check a parsed program; `source` is the text it was
/// parsed from (a few messages name the line of a second place, such as
/// `D_AGG_REDEF`'s previous definition).
pub fn resolve(
    script: &ast::Script,
    source: &str,
    opts: &CompileOptions,
    catalog: &dyn ProbeCatalog,
) -> DResult<Program> {
    let mut run = RunResolver::new(opts, catalog);
    run.add(script, source, opts)?;
    Ok(run.finish())
}

/// Resolves a run's programs in turn into one program: each sees the
/// variables, aggregations, types, inlines and translators the earlier
/// ones declared, as DTrace's programs share one handle's namespace.
pub struct RunResolver<'a> {
    r: Resolver<'a>,
    programs: usize,
}

impl<'a> RunResolver<'a> {
    /// A resolver for a run whose first program is compiled with `opts`.
    pub fn new(opts: &'a CompileOptions, catalog: &'a dyn ProbeCatalog) -> Self {
        RunResolver {
            r: Resolver::new(opts, catalog),
            programs: 0,
        }
    }

    /// Resolve the next program, parsed from `source` with `opts`.
    pub fn add(
        &mut self,
        script: &ast::Script,
        source: &str,
        opts: &'a CompileOptions,
    ) -> DResult<()> {
        self.r.opts = opts;
        self.r.source = std::rc::Rc::from(source);
        self.r.program = self.programs;
        self.programs += 1;
        for item in &script.items {
            self.r.item(item)?;
        }
        Ok(())
    }

    /// The run's programs as one.
    pub fn finish(self) -> Program {
        self.r.prog
    }
}

/// A translator: input type, output type, member expressions (still AST,
/// resolved at each `xlate` with the parameter bound).
#[derive(Debug, Clone)]
pub(crate) struct TranslatorDef {
    output: Type,
    input: Type,
    param: String,
    members: Vec<(String, ast::Expr)>,
}

/// What the current clause has done so far, for the speculation rules.
#[derive(Debug, Clone, Copy, Default)]
struct ClauseActs {
    speculated: bool,
    committed: bool,
    recorded: bool,
    aggregated: bool,
}

pub(crate) struct Resolver<'a> {
    opts: &'a CompileOptions,
    catalog: &'a dyn ProbeCatalog,
    types: TypeTable,
    prog: Program,
    globals: HashMap<String, VarId>,
    thread_vars: HashMap<String, VarId>,
    clause_vars: HashMap<String, VarId>,
    aggs: HashMap<String, AggId>,
    inlines: HashMap<String, (Type, ast::Expr)>,
    translators: Vec<TranslatorDef>,
    /// Probes of the clause being checked (for `args[]`).
    probes: Vec<ProbeInfo>,
    /// Description text of the clause, for messages.
    clause_desc: String,
    /// Each description of the clause, as DTrace prints it
    /// (`:::BEGIN`), with the probes it matches (for `args[]`).
    desc_probes: Vec<(String, Vec<ProbeInfo>)>,
    acts: ClauseActs,
    /// Names of inlines and translator parameters being expanded (recursion guard and bindings).
    bound: Vec<(String, ir::Expr)>,
    depth: usize,
    /// Types already parsed from text (built-in variables, probe arguments).
    text_types: HashMap<String, Option<Type>>,
    /// Whether the translator library has been loaded (or found unneeded).
    library_loaded: bool,
    /// Where each aggregation was first assigned, for `D_AGG_REDEF`.
    agg_defs: HashMap<AggId, Span>,
    /// The program's text, to turn such a span into a line.
    source: std::rc::Rc<str>,
    /// Which of the run's programs is being resolved (tags its clauses).
    program: usize,
}

impl<'a> Resolver<'a> {
    fn new(opts: &'a CompileOptions, catalog: &'a dyn ProbeCatalog) -> Self {
        Self::with_types(opts, catalog, prelude::types())
    }

    /// A resolver over a given type table (the prelude is built with only
    /// the built-in typedefs).
    pub(crate) fn with_types(
        opts: &'a CompileOptions,
        catalog: &'a dyn ProbeCatalog,
        types: TypeTable,
    ) -> Self {
        Resolver {
            opts,
            catalog,
            types,
            prog: Program::default(),
            globals: HashMap::new(),
            thread_vars: HashMap::new(),
            clause_vars: HashMap::new(),
            aggs: HashMap::new(),
            inlines: HashMap::new(),
            translators: Vec::new(),
            probes: Vec::new(),
            clause_desc: String::new(),
            desc_probes: Vec::new(),
            acts: ClauseActs::default(),
            bound: Vec::new(),
            depth: 0,
            text_types: HashMap::new(),
            library_loaded: false,
            agg_defs: HashMap::new(),
            source: std::rc::Rc::from(""),
            program: 0,
        }
    }

    fn item(&mut self, item: &Item) -> DResult<()> {
        match item {
            Item::Pragma(p) => self.pragma(p),
            Item::Decl(d) => self.declaration(d),
            Item::Inline(i) => self.inline(i),
            Item::Translator(t) => self.translator(t),
            Item::Provider(p) => self.provider(p),
            Item::Clause(c) => {
                let clause = self.clause(c)?;
                self.prog.clauses.push(clause);
                Ok(())
            }
        }
    }

    /// A control line, with `dt_pragma.c`'s messages: they name the
    /// pragma without its `D` (`malformed #pragma option …`).
    fn pragma(&mut self, p: &ast::Pragma) -> DResult<()> {
        let words: Vec<&str> = p.words.iter().map(String::as_str).collect();
        let malformed = |msg: String| Err(diag(ErrTag::D_PRAGMA_MALFORM, p.span, msg));
        let invalid = |msg: String| Err(diag(ErrTag::D_PRAGMA_INVAL, p.span, msg));
        match words.as_slice() {
            ["D", "option"] => malformed("malformed #pragma option <option>=<val>".into()),
            ["D", "option", _, _, ..] => {
                malformed("superfluous arguments specified for #pragma option".into())
            }
            ["D", "option", opt] => {
                let (name, value) = match opt.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (*opt, None),
                };
                if let Err(e) = crate::options::parse_pragma_option(name, value) {
                    let msg = match value {
                        Some(v) => format!("failed to set option '{name}' to '{v}': {e}"),
                        None => format!("failed to set option '{name}': {e}"),
                    };
                    return Err(diag(ErrTag::D_PRAGMA_OPTSET, p.span, msg));
                }
                self.prog.options.push(ir::PragmaOption {
                    name: name.to_string(),
                    value: value.map(str::to_string),
                });
                Ok(())
            }
            ["D", "depends_on", kind, what] => match *kind {
                "provider" => {
                    let desc = ProbeDesc {
                        provider: (*what).to_string(),
                        ..Default::default()
                    };
                    if self.catalog.matching(&desc).is_empty() && !self.opts.zdefs {
                        return Err(diag(
                            ErrTag::D_PRAGMA_DEPEND,
                            p.span,
                            format!("program requires provider {what}"),
                        ));
                    }
                    Ok(())
                }
                "module" | "library" => Ok(()),
                _ => invalid(format!(
                    "invalid class {kind} specified by #pragma depends_on"
                )),
            },
            ["D", "depends_on", ..] => {
                malformed("malformed #pragma depends_on <class> <name>".into())
            }
            ["D", "attributes", attrs, _, ..] => {
                if attrs.split('/').count() != 3 {
                    return invalid("invalid attributes specified by #pragma attributes".into());
                }
                Ok(())
            }
            ["D", "attributes", ..] => {
                malformed("malformed #pragma attributes <attributes> <ident>".into())
            }
            ["D", "binding", version, _] if version.starts_with('"') => {
                if !valid_version(version.trim_matches('"')) {
                    return invalid("invalid version string specified by #pragma binding".into());
                }
                Ok(())
            }
            ["D", "binding", ..] => {
                malformed("malformed #pragma binding \"version\" <ident>".into())
            }
            ["D", "ident", ..] | ["ident", ..] => Ok(()),
            // `#error`, `#pragma error`, `#pragma D error`.
            ["D", "error", rest @ ..] | ["error", rest @ ..] => Err(diag(
                ErrTag::D_PRAGERR,
                p.span,
                format!("#error: {}", pragma_error_text(&rest.join(" "))),
            )),
            ["D", other, ..] => invalid(format!("invalid D pragma: {other}")),
            ["D"] => Err(diag(
                ErrTag::D_PRAGMA_MALFORM,
                p.span,
                "malformed #pragma D",
            )),
            // Other pragmas (C compilers' own) are ignored, as DTrace does.
            _ => Ok(()),
        }
    }

    /// A provider declaration: its names checked as DTrace's parser does,
    /// its argument types resolved, and kept for `-h`/`-G`. A provider
    /// declared again must declare the same probes with the same
    /// prototypes.
    fn provider(&mut self, p: &ast::ProviderDecl) -> DResult<()> {
        // DTRACE_PROVNAMELEN and DTRACE_NAMELEN, with their NUL.
        const NAME_MAX: usize = 63;
        const ARGS_MAX: usize = 255;
        let bad = |msg: String| diag(ErrTag::D_PROV_BADNAME, p.span, msg);
        if p.name.len() > NAME_MAX {
            return Err(bad(format!(
                "provider name may not exceed {NAME_MAX} characters: {}",
                p.name
            )));
        }
        if p.name.ends_with(|c: char| c.is_ascii_digit()) {
            return Err(bad(format!(
                "provider name may not end with a digit: {}",
                p.name
            )));
        }
        let mut def = ir::ProviderDef {
            name: p.name.clone(),
            probes: Vec::new(),
        };
        for (name, params) in &p.probes {
            if name.len() > NAME_MAX {
                return Err(bad(format!(
                    "probe name may not exceed {NAME_MAX} characters: {name}"
                )));
            }
            if params.len() > ARGS_MAX {
                return Err(diag(
                    ErrTag::D_PROV_PRARGLEN,
                    p.span,
                    format!(
                        "probe {name} input prototype exceeds {ARGS_MAX} parameters: {} params used",
                        params.len()
                    ),
                ));
            }
            let mut args = Vec::with_capacity(params.len());
            for a in params {
                args.push(self.type_of_name(a)?);
            }
            // `probe x(void)` takes no arguments.
            if args.len() == 1 && matches!(args[0], Type::Void) {
                args.clear();
            }
            if def.probes.iter().any(|q| q.name == *name) {
                return Err(diag(
                    ErrTag::D_PROV_PRDUP,
                    p.span,
                    format!("probe redeclared: {}:::{name}", p.name),
                ));
            }
            def.probes.push(ir::ProviderProbe {
                name: name.clone(),
                args,
            });
        }
        match self.prog.providers.iter().find(|q| q.name == def.name) {
            Some(previous) => provider_compatible(previous, &def, p.span),
            None => {
                self.prog.providers.push(def);
                Ok(())
            }
        }
    }

    /// Which field a clause's probe descriptions end at.
    fn desc_field(&self) -> DescField {
        match self.opts.origin {
            Origin::Spec(f) => f,
            Origin::File(_) | Origin::ProbeId => DescField::Name,
        }
    }

    fn match_probes(&self, text: &str, span: Span) -> DResult<Vec<ProbeInfo>> {
        if self.opts.origin == Origin::ProbeId {
            let id: u32 = crate::options::parse_int(text)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| {
                    diag(
                        ErrTag::D_PDESC_INVAL,
                        span,
                        format!("invalid probe identifier {text}"),
                    )
                })?;
            let all = self.catalog.matching(&ProbeDesc::default());
            let found: Vec<_> = all.into_iter().filter(|p| p.id == id).collect();
            if found.is_empty() && !self.opts.zdefs {
                return Err(diag(
                    ErrTag::D_PDESC_ZERO,
                    span,
                    format!("probe description {id} does not match any probes"),
                ));
            }
            return Ok(found);
        }
        let desc = ProbeDesc::parse(text, self.desc_field()).map_err(|_| {
            diag(
                ErrTag::D_PDESC_INVAL,
                span,
                format!("invalid probe description \"{text}\": Overspecified probe description"),
            )
        })?;
        let probes = self.catalog.matching(&desc);
        if probes.is_empty() && !self.opts.zdefs {
            return Err(diag(
                ErrTag::D_PDESC_ZERO,
                span,
                format!("probe description {desc} does not match any probes"),
            ));
        }
        Ok(probes)
    }

    fn clause(&mut self, c: &ast::Clause) -> DResult<ir::Clause> {
        let mut probes: Vec<ProbeInfo> = Vec::new();
        // A clause on `fbt:::` names a quarter of a million probes: no
        // search of the list for each.
        let mut seen = std::collections::HashSet::new();
        let mut desc_probes = Vec::new();
        for (text, span) in &c.descs {
            let matched = self.match_probes(text, *span)?;
            let shown = ProbeDesc::parse(text, self.desc_field())
                .map_or_else(|_| text.clone(), |d| d.to_string());
            for p in &matched {
                if seen.insert(p.id) {
                    probes.push(p.clone());
                }
            }
            desc_probes.push((shown, matched));
        }
        self.desc_probes = desc_probes;
        probes.sort_by_key(|p| p.id);
        self.probes = probes.clone();
        self.clause_desc = c.descs.first().map(|d| d.0.clone()).unwrap_or_default();
        // DTrace checks the actions before the predicate; if they use a
        // name not yet known and there is a predicate, it tries again with
        // the predicate first, so that `/i++ < 3/ { trace(i); }` and
        // `/!self->seen/ { self->seen = 1; }` are fine. The predicate's
        // error then wins.
        self.acts = ClauseActs::default();
        let (predicate, body) = match self.clause_body(c) {
            Ok(body) => (self.clause_predicate(c)?, body),
            Err(d)
                if c.predicate.is_some()
                    && matches!(d.tag, ErrTag::D_IDENT_UNDEF | ErrTag::D_VAR_UNDEF) =>
            {
                self.acts = ClauseActs::default();
                let predicate = self.clause_predicate(c)?;
                (predicate, self.clause_body(c)?)
            }
            Err(d) => return Err(d),
        };
        let default_action = body.is_empty();
        Ok(ir::Clause {
            probes,
            descs: c.descs.iter().map(|d| d.0.clone()).collect(),
            predicate,
            body,
            default_action,
            span: c.span,
            program: self.program,
        })
    }

    fn clause_predicate(&mut self, c: &ast::Clause) -> DResult<Option<ir::Expr>> {
        let Some(p) = &c.predicate else {
            return Ok(None);
        };
        let e = self.expr(p).map_err(|d| d.in_region(Region::Predicate))?;
        let e = self.rvalue(e).map_err(|d| d.in_region(Region::Predicate))?;
        if !e.ty.is_scalar() {
            return Err(diag(
                ErrTag::D_PRED_SCALAR,
                p.span,
                "predicate result must be of scalar type",
            )
            .in_region(Region::Predicate));
        }
        Ok(Some(e))
    }

    fn clause_body(&mut self, c: &ast::Clause) -> DResult<Vec<ir::Stmt>> {
        match &c.body {
            Some(stmts) => self
                .stmts(stmts)
                .map_err(|d| d.in_region(Region::ActionList)),
            None => Ok(Vec::new()),
        }
    }

    fn stmts(&mut self, stmts: &[ast::Stmt]) -> DResult<Vec<ir::Stmt>> {
        let mut out = Vec::new();
        for s in stmts {
            match s {
                ast::Stmt::Empty => {}
                ast::Stmt::Block(b) => out.extend(self.stmts(b)?),
                ast::Stmt::Decl(d) => self.declaration(d)?,
                ast::Stmt::If {
                    cond, then, els, ..
                } => {
                    let c = self.expr(cond)?;
                    let c = self.rvalue(c)?;
                    if !c.ty.is_scalar() {
                        return Err(diag(
                            ErrTag::D_OP_SCALAR,
                            cond.span,
                            "if condition must be of scalar type",
                        ));
                    }
                    let t = self.stmts(then)?;
                    let e = match els {
                        Some(e) => self.stmts(e)?,
                        None => Vec::new(),
                    };
                    out.push(ir::Stmt::If(c, t, e));
                }
                ast::Stmt::Expr(e) => out.push(self.statement_expr(e)?),
            }
        }
        Ok(out)
    }

    fn new_var(&mut self, name: &str, scope: Scope, ty: Type, keys: Option<Vec<Type>>) -> VarId {
        let id = VarId(self.prog.variables.len() as u32);
        self.prog.variables.push(ir::Variable {
            name: name.to_string(),
            scope,
            ty,
            keys,
        });
        let map = match scope {
            Scope::Global => &mut self.globals,
            Scope::Thread => &mut self.thread_vars,
            Scope::Clause => &mut self.clause_vars,
        };
        map.insert(name.to_string(), id);
        id
    }

    /// The type table, once the prelude is declared.
    pub(crate) fn into_types(self) -> TypeTable {
        self.types
    }

    fn var(&self, id: VarId) -> &ir::Variable {
        &self.prog.variables[id.0 as usize]
    }

    /// The line DTrace reports for a place in the program (after `#line`
    /// markers), as the compiler does for the error's own place.
    fn line_of(&self, span: Span) -> usize {
        crate::lexer::line_of(&self.source, span.start).1
    }
}

#[cfg(test)]
mod tests;

/// A `#pragma D binding` version: `M[.m[.u]]`, within the 8/12/12 bits
/// DTrace encodes versions in.
fn valid_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    let limits = [0xff_u32, 0xfff, 0xfff];
    parts.len() <= 3
        && parts.iter().zip(limits).all(|(p, max)| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        })
}

/// The text of `#error`: each identifier or string (without its quotes)
/// followed by one space; integers are dropped.
fn pragma_error_text(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (token, after) = match rest.strip_prefix('"') {
            Some(s) => match s.find('"') {
                Some(end) => (&s[..end], &s[end + 1..]),
                None => (s, ""),
            },
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let word = &rest[..end];
                let is_int = crate::options::parse_int(word).is_some()
                    && word.starts_with(|c: char| c.is_ascii_digit());
                (if is_int { "" } else { word }, &rest[end..])
            }
        };
        if !token.is_empty() || rest.starts_with('"') {
            out.push_str(token);
            out.push(' ');
        }
        rest = after.trim_start();
    }
    out
}

/// DTrace's check of a provider declared again: the same probes, each
/// with the same prototype.
fn provider_compatible(
    previous: &ir::ProviderDef,
    current: &ir::ProviderDef,
    span: Span,
) -> DResult<()> {
    let err = |msg: String| Err(diag(ErrTag::D_PROV_INCOMPAT, span, msg));
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let name = &current.name;
    for probe in &current.probes {
        let Some(old) = previous.probes.iter().find(|q| q.name == probe.name) else {
            return err(format!(
                "provider interface mismatch: {name}\n\t current: probe {name}:::{0} defined\n\tprevious: probe {name}:::{0} not defined",
                probe.name
            ));
        };
        if old.args.len() != probe.args.len() {
            return err(format!(
                "probe {name}:::{} input prototype mismatch:\n\t current: {} arg{}\n\tprevious: {} arg{}",
                probe.name,
                probe.args.len(),
                plural(probe.args.len()),
                old.args.len(),
                plural(old.args.len())
            ));
        }
        for (i, (a, b)) in probe.args.iter().zip(&old.args).enumerate() {
            if a.name() != b.name() {
                return err(format!(
                    "probe {name}:::{} input prototype argument #{} mismatch:\n\t current: {a}\n\tprevious: {b}",
                    probe.name,
                    i + 1
                ));
            }
        }
    }
    if let Some(old) = previous
        .probes
        .iter()
        .find(|q| !current.probes.iter().any(|p| p.name == q.name))
    {
        return err(format!(
            "provider interface mismatch: {name}\n\t current: probe {name}:::{0} not defined\n\tprevious: probe {name}:::{0} defined",
            old.name
        ));
    }
    Ok(())
}
