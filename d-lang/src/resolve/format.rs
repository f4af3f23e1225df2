//! Formats: `printf` and `printa` formats checked against the types they are given.

use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::Func;
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Action, Expr, ExprKind as I};
use crate::printf::{conversion_accepts, conversion_prototype, Count, Format};
use crate::span::Span;

impl Resolver<'_> {
    /// The format (argument #1) of printf/printa/system/freopen. Its
    /// syntax errors are `D_SYNTAX`, as DTrace's format parser reports them.
    pub(super) fn format_arg(&mut self, f: &Func, a: &ast::Expr) -> DResult<Format> {
        let A::Str(bytes) = &a.kind else {
            let v = self.expr(a)?;
            // printf's prototype takes a string (checked first, as DTrace
            // checks prototypes before generating code); then only a
            // string constant will do.
            if f.name == "printf" && !(v.ty.is_string() || v.ty.is_char_string()) {
                return Err(diag(
                    ErrTag::D_PROTO_ARG,
                    a.span,
                    format!(
                        "{} argument #1 is incompatible with prototype:\n\tprototype: string\n\t argument: {}",
                        f.display_name(),
                        v.ty.name()
                    ),
                ));
            }
            return Err(diag(
                ErrTag::D_PRINTF_ARG_FMT,
                a.span,
                format!(
                    "{} argument #1 is incompatible with prototype:\n\tprototype: string constant\n\t argument: {}",
                    f.display_name(),
                    v.ty.name()
                ),
            ));
        };
        let text = String::from_utf8_lossy(bytes);
        if text.is_empty() && f.name == "printf" {
            return Err(diag(
                ErrTag::D_PRINTF_FMT_EMPTY,
                a.span,
                format!("{} format string is empty", f.display_name()),
            ));
        }
        Format::parse(&text).map_err(|e| diag(ErrTag::D_SYNTAX, a.span, e.message))
    }

    pub(super) fn printf_args(
        &mut self,
        f: &Func,
        args: &[ast::Expr],
        span: Span,
    ) -> DResult<(Format, Vec<Expr>)> {
        if args.is_empty() {
            let _ = self.checked_args(f, args, span)?;
        }
        let fmt = self.format_arg(f, &args[0])?;
        let mut vals = Vec::new();
        for a in &args[1..] {
            let v = self.expr(a)?;
            vals.push(self.rvalue(v)?);
        }
        self.check_format(f, &fmt, &vals, 1, span, None)?;
        Ok((fmt, vals))
    }

    /// Check a format against values; `first_argno` is the D argument number
    /// of `vals[0]` minus one. `agg_values` counts `%@` slots for printa.
    fn check_format(
        &self,
        f: &Func,
        fmt: &Format,
        vals: &[Expr],
        first_argno: usize,
        span: Span,
        agg_values: Option<usize>,
    ) -> DResult<()> {
        let mut next = 0usize;
        for (ci, c) in fmt.conversions().enumerate() {
            let convno = ci + 1;
            if c.is_agg() {
                if agg_values.is_none() {
                    return Err(diag(
                        ErrTag::D_PRINTF_AGG_CONV,
                        span,
                        format!(
                            "%@ conversion requires an aggregation and is not for use with {}",
                            f.display_name()
                        ),
                    ));
                }
                continue;
            }
            let stars = [c.width, c.precision]
                .iter()
                .filter(|x| **x == Some(Count::Star))
                .count();
            for _ in 0..stars {
                let Some(v) = vals.get(next) else {
                    return Err(self.missing(f, convno, &c.text, span));
                };
                if !v.ty.is_integer() {
                    return Err(diag(
                        ErrTag::D_PRINTF_ARG_TYPE,
                        v.span,
                        format!(
                            "{} argument #{} is incompatible with conversion #{convno} prototype:\n\tconversion: %{}\n\t prototype: int\n\t  argument: {}",
                            f.display_name(),
                            next + first_argno + 1,
                            c.text,
                            v.ty.name()
                        ),
                    ));
                }
                next += 1;
            }
            let Some(v) = vals.get(next) else {
                return Err(self.missing(f, convno, &c.text, span));
            };
            if !conversion_accepts(c.conv, &v.ty) {
                return Err(diag(
                    ErrTag::D_PRINTF_ARG_TYPE,
                    v.span,
                    format!(
                        "{} argument #{} is incompatible with conversion #{convno} prototype:\n\tconversion: %{}\n\t prototype: {}\n\t  argument: {}",
                        f.display_name(),
                        next + first_argno + 1,
                        c.text,
                        conversion_prototype(c.conv),
                        v.ty.name()
                    ),
                ));
            }
            next += 1;
        }
        if next < vals.len() && agg_values.is_none() {
            return Err(diag(
                ErrTag::D_PRINTF_ARG_EXTRA,
                vals[next].span,
                format!(
                    "{} prototype mismatch: only {} arguments required by this format string",
                    f.display_name(),
                    next + first_argno
                ),
            ));
        }
        Ok(())
    }

    fn missing(&self, f: &Func, convno: usize, text: &str, span: Span) -> crate::diag::Diagnostic {
        diag(
            ErrTag::D_PRINTF_ARG_PROTO,
            span,
            format!(
                "{} prototype mismatch: conversion #{convno} (%{text}) is missing a corresponding value argument",
                f.display_name()
            ),
        )
    }

    pub(super) fn printa(&mut self, f: &Func, args: &[ast::Expr], span: Span) -> DResult<Action> {
        if args.is_empty() {
            // The prototype `void(@, ...)` wants one argument at least.
            self.checked_args(f, args, span)?;
        }
        let (fmt, rest, first) = match &args[0].kind {
            A::Str(_) => (Some(self.format_arg(f, &args[0])?), &args[1..], 2),
            _ => (None, args, 1),
        };
        if rest.is_empty() {
            return Err(diag(
                ErrTag::D_PRINTA_PROTO,
                span,
                format!(
                    "{} prototype mismatch: {} args passed, 2 expected",
                    f.display_name(),
                    args.len()
                ),
            ));
        }
        // Each aggregation in turn: an aggregation, then (after the
        // first) the same key signature as the first.
        let mut ids: Vec<crate::ir::AggId> = Vec::new();
        for (i, a) in rest.iter().enumerate() {
            let id = self.agg_arg(f, a, i + first, ErrTag::D_PRINTA_AGGARG)?;
            if let Some(&lead) = ids.first() {
                self.printa_validate(lead, id, a.span)?;
            }
            ids.push(id);
        }
        let keys = self.prog.aggregations[ids[0].0 as usize].keys.clone();
        if let Some(fm) = &fmt {
            // Keys are the format's leading arguments; `%@` takes the values.
            let key_vals: Vec<Expr> = keys
                .iter()
                .map(|t| Expr {
                    kind: I::Const(0),
                    ty: t.clone(),
                    span,
                })
                .collect();
            self.check_printa_keys(f, fm, &key_vals, span)?;
        }
        Ok(Action::Printa(fmt, ids))
    }

    /// DTrace's `dt_printa_validate`: a later aggregation of one `printa`
    /// must have as many keys as the first, each of a compatible type.
    fn printa_validate(
        &self,
        lead: crate::ir::AggId,
        other: crate::ir::AggId,
        span: Span,
    ) -> DResult<()> {
        let l = &self.prog.aggregations[lead.0 as usize];
        let r = &self.prog.aggregations[other.0 as usize];
        let (ln, rn) = (l.keys.len(), r.keys.len());
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if ln != rn {
            return Err(diag(
                ErrTag::D_PRINTA_AGGKEY,
                span,
                format!(
                    "printa( ): @{0} and @{1} do not have matching key signatures: @{0} has {ln} key{2}, @{1} has {rn} key{3}",
                    l.name,
                    r.name,
                    plural(ln),
                    plural(rn)
                ),
            ));
        }
        for (i, (a, b)) in l.keys.iter().zip(&r.keys).enumerate() {
            let compatible = (a.is_integer() && b.is_integer())
                || (a.is_string() && b.is_string())
                || a.accepts(b);
            if !compatible {
                let k = i + 1;
                return Err(diag(
                    ErrTag::D_PRINTA_AGGPROTO,
                    span,
                    format!(
                        "printa( ): @{1}[ ] key #{k} is incompatible with @{0}:\n{0:>9} key #{k}: {2}\n{1:>9} key #{k}: {3}",
                        l.name,
                        r.name,
                        a.name(),
                        b.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_printa_keys(&self, f: &Func, fmt: &Format, keys: &[Expr], span: Span) -> DResult<()> {
        let mut next = 0;
        for (ci, c) in fmt.conversions().enumerate() {
            if c.is_agg() {
                continue;
            }
            let Some(k) = keys.get(next) else {
                return Err(self.missing(f, ci + 1, &c.text, span));
            };
            if !conversion_accepts(c.conv, &k.ty) {
                return Err(diag(
                    ErrTag::D_PRINTF_ARG_TYPE,
                    span,
                    format!(
                        "{} argument #{} is incompatible with conversion #{} prototype:\n\tconversion: %{}\n\t prototype: {}\n\t  argument: {}",
                        f.display_name(),
                        // The keys count as arguments #2, #3…
                        next + 2,
                        ci + 1,
                        c.text,
                        conversion_prototype(c.conv),
                        k.ty.name()
                    ),
                ));
            }
            next += 1;
        }
        Ok(())
    }
}
