//! Formats: `printf` and `printa` formats checked against the types they are given.

use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::Func;
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Action, Expr, ExprKind as I};
use crate::printf::{conversion_accepts, conversion_prototype, Count, Format};
use crate::span::Span;
use crate::types::Type;

impl Resolver<'_> {
    /// The format (argument #1) of printf/printa/system.
    fn format_arg(&self, f: &Func, a: &ast::Expr) -> DResult<Format> {
        let A::Str(bytes) = &a.kind else {
            return Err(diag(
                ErrTag::D_PRINTF_ARG_FMT,
                a.span,
                format!("{} argument #1 is incompatible with prototype:\n\tprototype: string constant\n\t argument: {}", f.display_name(), "expression"),
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
        Format::parse(&text).map_err(|e| diag(ErrTag::D_PRINTF_ARG_FMT, a.span, e.message))
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
                        "%@ conversion requires an aggregation and is for use with printa( ) only",
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
            return Err(diag(
                ErrTag::D_PRINTA_PROTO,
                span,
                "printa( ) prototype mismatch: 0 args passed, at least 1 expected",
            ));
        }
        let (fmt, rest, first) = match &args[0].kind {
            A::Str(_) => (Some(self.format_arg(f, &args[0])?), &args[1..], 2),
            _ => (None, args, 1),
        };
        if rest.is_empty() {
            return Err(diag(
                ErrTag::D_PRINTA_PROTO,
                span,
                "printa( ) prototype mismatch: aggregation argument expected",
            ));
        }
        let mut ids = Vec::new();
        for (i, a) in rest.iter().enumerate() {
            ids.push(self.agg_arg(f, a, i + first, ErrTag::D_PRINTA_AGGARG)?);
        }
        let keys = self.prog.aggregations[ids[0].0 as usize].keys.clone();
        for (i, id) in ids.iter().enumerate().skip(1) {
            let other = &self.prog.aggregations[id.0 as usize];
            let same = other.keys.len() == keys.len()
                && other.keys.iter().zip(&keys).all(|(a, b)| {
                    a.strip() == b.strip()
                        || (a.is_integer() && b.is_integer() && a.int_size() == b.int_size())
                });
            if !same {
                let sig = |k: &[Type]| k.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
                return Err(diag(
                    ErrTag::D_PRINTA_AGGKEY,
                    rest[i].span,
                    format!(
                        "printa( ) argument #{} is incompatible with argument #{}:\n\tprototype: @[ {} ]\n\t argument: @[ {} ]",
                        i + first,
                        first,
                        sig(&keys),
                        sig(&other.keys)
                    ),
                ));
            }
        }
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
                        "{} aggregation key #{} is incompatible with conversion #{} prototype:\n\tconversion: %{}\n\t prototype: {}\n\t  argument: {}",
                        f.display_name(),
                        next + 1,
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
