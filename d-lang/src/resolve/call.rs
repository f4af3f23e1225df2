//! Calls: actions, subroutines and aggregating functions checked against
//! their prototypes; aggregation assignments; printf/printa formats; the
//! speculation ordering rules.

use super::expr::agg_text;
use super::key_name;
use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::{self, Func, FuncKind};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{self, Action, AggFunc, AggId, Expr, ExprKind as I, Stmt};
use crate::printf::{conversion_accepts, conversion_prototype, Count, Format};
use crate::span::Span;
use crate::types::{DynType, Type};

impl Resolver<'_> {
    /// An expression statement: an action, an aggregation, or a value for effect.
    pub(crate) fn statement_expr(&mut self, e: &ast::Expr) -> DResult<Stmt> {
        match &e.kind {
            A::Assign(op, l, r) if is_agg(l) => {
                if op.is_some() {
                    return Err(diag(
                        ErrTag::D_AGG_FUNC,
                        l.span,
                        format!(
                            "{} must be assigned the result of an aggregating function",
                            agg_text(l)
                        ),
                    ));
                }
                self.aggregation(l, r, e.span)
            }
            A::Agg(_) | A::Index(..) if is_agg(e) => Err(diag(
                ErrTag::D_AGG_NULL,
                e.span,
                format!("expression has null effect: {}", agg_text(e)),
            )),
            A::Call(name, args, nspan) => match builtins::func(name) {
                Some(f) if f.kind == FuncKind::Action => {
                    self.action(f, args, e.span, *nspan).map(Stmt::Action)
                }
                _ => {
                    let v = self.expr(e)?;
                    Ok(Stmt::Expr(v))
                }
            },
            _ => {
                let v = self.expr(e)?;
                Ok(Stmt::Expr(v))
            }
        }
    }

    /// Resolve arguments and check them against a built-in's prototype.
    fn checked_args(&mut self, f: &Func, args: &[ast::Expr], span: Span) -> DResult<Vec<Expr>> {
        let max = f.max_args();
        let n = args.len();
        if n < f.required || max.is_some_and(|m| n > m) {
            let expected = if n < f.required {
                if max == Some(f.required) {
                    format!("{}", f.required)
                } else {
                    format!("at least {}", f.required)
                }
            } else {
                let m = max.unwrap_or(0);
                if m == f.required {
                    format!("{m}")
                } else {
                    format!("at most {m}")
                }
            };
            return Err(diag(
                ErrTag::D_PROTO_LEN,
                span,
                format!(
                    "{} prototype mismatch: {n} arg{} passed, {expected} expected",
                    f.display_name(),
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        let mut out = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let param = f.params.get(i).copied().unwrap_or("...");
            let param = if f.params.last() == Some(&"...") && i + 1 >= f.params.len() {
                "..."
            } else {
                param
            };
            if param == "@" {
                continue;
            }
            let v = self.expr(a)?;
            let v = self.rvalue(v)?;
            if param == "*" || param == "..." {
                if v.ty.is_void() {
                    return Err(self.proto_arg(f, i, "void", &v));
                }
                out.push(v);
                continue;
            }
            let want = match param {
                "stack" => Type::Dyn(DynType::Stack),
                p => self.type_from_text(p).unwrap_or(Type::Void),
            };
            let ok = if want.is_integer() {
                v.ty.is_integer()
                    || (want.int_size() == 8
                        && (v.ty.is_pointer() || matches!(v.ty.strip(), Type::Dyn(_))))
            } else if want.is_pointer() {
                v.ty.is_pointer()
                    || v.ty.is_integer()
                    || v.ty.is_char_string()
                    || matches!(v.ty.strip(), Type::Array(..))
            } else {
                want.accepts(&v.ty)
            };
            if !ok {
                return Err(self.proto_arg(f, i, &want.name(), &v));
            }
            out.push(v);
        }
        Ok(out)
    }

    fn proto_arg(&self, f: &Func, i: usize, proto: &str, v: &Expr) -> crate::diag::Diagnostic {
        diag(
            ErrTag::D_PROTO_ARG,
            v.span,
            format!(
                "{} argument #{} is incompatible with prototype:\n\tprototype: {proto}\n\t argument: {}",
                f.display_name(),
                i + 1,
                v.ty.name()
            ),
        )
    }

    /// A call used for its value.
    pub(crate) fn call_value(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        span: Span,
        nspan: Span,
    ) -> DResult<Expr> {
        let Some(f) = builtins::func(name) else {
            return Err(self.not_a_function(name, nspan));
        };
        match f.kind {
            FuncKind::Aggregating => Err(diag(
                ErrTag::D_AGG_FUNC,
                span,
                format!(
                    "aggregating function {}( ) may only be used as the value of an aggregation",
                    f.name
                ),
            )),
            FuncKind::Action if f.ret == "void" => Err(diag(
                ErrTag::D_OP_ACT,
                span,
                format!("action {}( ) may not be used in an expression", f.name),
            )),
            _ => {
                let vals = self.checked_args(f, args, span)?;
                let ty = match f.ret {
                    "stack" => Type::Dyn(DynType::Stack),
                    "ustack" => Type::Dyn(DynType::UStack),
                    "_symaddr" => Type::Dyn(DynType::Symaddr),
                    "_usymaddr" if f.name == "uaddr" => Type::Dyn(DynType::Uaddr),
                    "_usymaddr" => Type::Dyn(DynType::Usymaddr),
                    "_modaddr" => Type::Dyn(DynType::Modaddr),
                    "_umodaddr" => Type::Dyn(DynType::Umodaddr),
                    t => self.type_from_text(t).unwrap_or(Type::Void),
                };
                Ok(Expr {
                    kind: I::Call(f.name, vals),
                    ty,
                    span,
                })
            }
        }
    }

    fn not_a_function(&self, name: &str, span: Span) -> crate::diag::Diagnostic {
        let kind = if builtins::variable(name).is_some() || self.globals.contains_key(name) {
            let is_array = self
                .globals
                .get(name)
                .is_some_and(|&id| self.var(id).keys.is_some());
            Some(if is_array { "array" } else { "scalar" })
        } else if self.inlines.contains_key(name) {
            Some("inline")
        } else if self.types.enumerators.contains_key(name) {
            Some("enumerator")
        } else {
            None
        };
        match kind {
            Some(k) => diag(
                ErrTag::D_FUNC_IDKIND,
                span,
                format!("{k} '{name}' may not be referenced as a function"),
            ),
            None => diag(
                ErrTag::D_FUNC_UNDEF,
                span,
                format!("undefined function name: {name}"),
            ),
        }
    }

    /// An aggregation argument (`@a`) of `printa`, `clear`, …
    fn agg_arg(&self, f: &Func, a: &ast::Expr, argno: usize, tag: ErrTag) -> DResult<AggId> {
        let A::Agg(name) = &a.kind else {
            let msg = match tag {
                ErrTag::D_PRINTA_AGGARG => format!(
                    "{} argument #{argno} must be an aggregation",
                    f.display_name()
                ),
                _ => format!(
                    "{} argument #{argno} must be an aggregation",
                    f.display_name()
                ),
            };
            return Err(diag(tag, a.span, msg));
        };
        self.aggs.get(name).copied().ok_or_else(|| {
            diag(
                ErrTag::D_PRINTA_AGGBAD,
                a.span,
                format!("undefined aggregation: @{name}"),
            )
        })
    }

    fn note_record(&mut self, f: &Func, span: Span) -> DResult<()> {
        if self.acts.committed && f.flags.records {
            return Err(diag(
                ErrTag::D_COMM_DREC,
                span,
                "data-recording actions may not follow commit( )",
            ));
        }
        if f.flags.destructive && self.acts.speculated {
            return Err(diag(
                ErrTag::D_ACT_SPEC,
                span,
                "destructive actions may not follow speculate( )",
            ));
        }
        if f.flags.records {
            self.acts.recorded = true;
        }
        if f.flags.destructive {
            self.prog.destructive = true;
        }
        Ok(())
    }

    /// An action statement.
    fn action(
        &mut self,
        f: &'static Func,
        args: &[ast::Expr],
        span: Span,
        nspan: Span,
    ) -> DResult<Action> {
        let _ = nspan;
        match f.name {
            "printf" => {
                self.note_record(f, span)?;
                let (fmt, vals) = self.printf_args(f, args, span)?;
                Ok(Action::Printf(fmt, vals))
            }
            "printa" => {
                self.note_record(f, span)?;
                self.printa(f, args, span)
            }
            "clear" | "denormalize" => {
                self.checked_len(f, args, span)?;
                let tag = if f.name == "clear" {
                    ErrTag::D_CLEAR_AGGARG
                } else {
                    ErrTag::D_NORMALIZE_AGGARG
                };
                let id = self.agg_arg(f, &args[0], 1, tag)?;
                Ok(if f.name == "clear" {
                    Action::Clear(id)
                } else {
                    Action::Denormalize(id)
                })
            }
            "trunc" | "normalize" => {
                self.checked_len(f, args, span)?;
                let (aggtag, sctag) = if f.name == "trunc" {
                    (ErrTag::D_TRUNC_AGGARG, ErrTag::D_TRUNC_SCALAR)
                } else {
                    (ErrTag::D_NORMALIZE_AGGARG, ErrTag::D_NORMALIZE_SCALAR)
                };
                let id = self.agg_arg(f, &args[0], 1, aggtag)?;
                let n = match args.get(1) {
                    Some(a) => {
                        let v = self.expr(a)?;
                        if !v.ty.is_scalar() {
                            return Err(diag(
                                sctag,
                                a.span,
                                format!("{} argument #2 must be of scalar type", f.display_name()),
                            ));
                        }
                        Some(v)
                    }
                    None => None,
                };
                Ok(match (f.name, n) {
                    ("trunc", n) => Action::Trunc(id, n),
                    (_, Some(n)) => Action::Normalize(id, n),
                    _ => unreachable!("normalize requires two arguments (checked above)"),
                })
            }
            "setopt" => {
                self.checked_len(f, args, span)?;
                let lit = |a: &ast::Expr| match &a.kind {
                    A::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
                    _ => None,
                };
                let Some(name) = lit(&args[0]) else {
                    return Err(diag(
                        ErrTag::D_PROTO_ARG,
                        args[0].span,
                        "setopt( ) argument #1 must be a string constant",
                    ));
                };
                let value = match args.get(1) {
                    Some(a) => Some(lit(a).ok_or_else(|| {
                        diag(
                            ErrTag::D_PROTO_ARG,
                            a.span,
                            "setopt( ) argument #2 must be a string constant",
                        )
                    })?),
                    None => None,
                };
                Ok(Action::Setopt(name, value))
            }
            "speculate" => {
                if self.acts.speculated {
                    return Err(diag(
                        ErrTag::D_SPEC_SPEC,
                        span,
                        "speculate( ) may not follow speculate( )",
                    ));
                }
                if self.acts.committed {
                    return Err(diag(
                        ErrTag::D_SPEC_COMM,
                        span,
                        "speculate( ) may not follow commit( )",
                    ));
                }
                if self.acts.recorded {
                    return Err(diag(
                        ErrTag::D_SPEC_DREC,
                        span,
                        "speculate( ) may not follow data-recording actions",
                    ));
                }
                if self.acts.aggregated {
                    return Err(diag(
                        ErrTag::D_SPEC_DREC,
                        span,
                        "speculate( ) may not follow aggregating actions",
                    ));
                }
                let v = self.checked_args(f, args, span)?;
                self.acts.speculated = true;
                Ok(Action::Speculate(
                    v.into_iter().next().unwrap_or_else(|| zero(span)),
                ))
            }
            "commit" | "discard" => {
                if f.name == "commit" {
                    if self.acts.speculated {
                        return Err(diag(
                            ErrTag::D_ACT_SPEC,
                            span,
                            "commit( ) may not follow speculate( )",
                        ));
                    }
                    if self.acts.committed {
                        return Err(diag(
                            ErrTag::D_COMM_COMM,
                            span,
                            "commit( ) may not follow commit( )",
                        ));
                    }
                    if self.acts.recorded {
                        return Err(diag(
                            ErrTag::D_COMM_DREC,
                            span,
                            "commit( ) may not follow data-recording actions",
                        ));
                    }
                    self.acts.committed = true;
                } else if self.acts.speculated {
                    return Err(diag(
                        ErrTag::D_ACT_SPEC,
                        span,
                        "discard( ) may not follow speculate( )",
                    ));
                }
                let v = self
                    .checked_args(f, args, span)?
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| zero(span));
                Ok(if f.name == "commit" {
                    Action::Commit(v)
                } else {
                    Action::Discard(v)
                })
            }
            "exit" => {
                if self.acts.speculated {
                    return Err(diag(
                        ErrTag::D_EXIT_SPEC,
                        span,
                        "exit( ) may not follow speculate( )",
                    ));
                }
                self.note_record(f, span)?;
                let v = self.checked_args(f, args, span)?;
                Ok(Action::Exit(
                    v.into_iter().next().unwrap_or_else(|| zero(span)),
                ))
            }
            "trace" | "print" => {
                self.note_record(f, span)?;
                self.checked_len(f, args, span)?;
                let v = self.expr(&args[0])?;
                if v.ty.is_void() {
                    return Err(diag(
                        ErrTag::D_TRACE_VOID,
                        args[0].span,
                        format!(
                            "{} may not be applied to a void expression",
                            f.display_name()
                        ),
                    ));
                }
                if matches!(v.ty.strip(), Type::Dyn(DynType::Stack | DynType::UStack)) {
                    return Err(diag(
                        ErrTag::D_TRACE_DYN,
                        args[0].span,
                        format!(
                            "{} may not be applied to a dynamic expression",
                            f.display_name()
                        ),
                    ));
                }
                Ok(if f.name == "trace" {
                    Action::Trace(v)
                } else {
                    Action::Print(v)
                })
            }
            "tracemem" => {
                self.note_record(f, span)?;
                let v = self.checked_args(f, args, span)?;
                if v.get(1).and_then(|s| s.as_const()).is_none() {
                    return Err(diag(ErrTag::D_TRACEMEM_SIZE, args[1].span, "tracemem( ) argument #2 must be a non-zero positive integral constant expression"));
                }
                Ok(Action::Tracemem(v))
            }
            "jstack" => Err(diag(
                ErrTag::D_UNSUPPORTED,
                span,
                "jstack( ) is not supported: Lumen has no Java stack helper (use ustack( ))",
            )),
            "panic" | "breakpoint" => Err(diag(
                ErrTag::D_UNSUPPORTED,
                span,
                format!(
                    "{} is not supported on Linux: eBPF cannot {} the kernel",
                    f.display_name(),
                    if f.name == "panic" {
                        "panic"
                    } else {
                        "enter a debugger from"
                    }
                ),
            )),
            _ if f.flags.destructive => {
                self.note_record(f, span)?;
                let v = self.checked_args(f, args, span)?;
                if (f.name == "system" || f.name == "freopen") && !matches!(args[0].kind, A::Str(_))
                {
                    return Err(diag(
                        ErrTag::D_PRINTF_ARG_FMT,
                        args[0].span,
                        format!("{} argument #1 must be a string constant", f.display_name()),
                    ));
                }
                Ok(Action::Destructive(f.name, v))
            }
            _ => {
                self.note_record(f, span)?;
                let v = self.checked_args(f, args, span)?;
                if let Some(c) = v.first().and_then(|x| x.as_const()) {
                    if matches!(f.name, "stack" | "ustack") && c == 0 {
                        return Err(diag(
                            if f.name == "stack" {
                                ErrTag::D_STACK_SIZE
                            } else {
                                ErrTag::D_USTACK_FRAMES
                            },
                            args[0].span,
                            format!(
                                "{} size must be a non-zero positive integer constant",
                                f.display_name()
                            ),
                        ));
                    }
                }
                if matches!(f.name, "stack" | "ustack")
                    && v.first().is_some_and(|x| x.as_const().is_none())
                {
                    return Err(diag(
                        if f.name == "stack" {
                            ErrTag::D_STACK_PROTO
                        } else {
                            ErrTag::D_USTACK_PROTO
                        },
                        args[0].span,
                        format!(
                            "{} argument #1 must be a non-zero positive integer constant",
                            f.display_name()
                        ),
                    ));
                }
                Ok(Action::Record(f.name, v))
            }
        }
    }

    fn checked_len(&mut self, f: &Func, args: &[ast::Expr], span: Span) -> DResult<()> {
        // Check the count only: these actions check their own argument kinds.
        let max = f.max_args();
        let n = args.len();
        if n < f.required || max.is_some_and(|m| n > m) {
            let _ = self.checked_args(f, args, span)?;
        }
        Ok(())
    }

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

    fn printf_args(
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

    fn printa(&mut self, f: &Func, args: &[ast::Expr], span: Span) -> DResult<Action> {
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

    /// `@a[keys] = func(args)`.
    fn aggregation(&mut self, l: &ast::Expr, r: &ast::Expr, span: Span) -> DResult<Stmt> {
        let (name, key_exprs): (String, &[ast::Expr]) = match &l.kind {
            A::Agg(n) => (n.clone(), &[]),
            A::Index(b, k) => match &b.kind {
                A::Agg(n) => (n.clone(), k.as_slice()),
                A::Index(..) => {
                    return Err(diag(
                        ErrTag::D_AGG_MDIM,
                        l.span,
                        "multi-dimensional aggregation arrays may not be used",
                    ))
                }
                _ => unreachable!("is_agg checked the shape"),
            },
            _ => unreachable!("is_agg checked the shape"),
        };
        let A::Call(fname, fargs, _) = &r.kind else {
            return Err(diag(
                ErrTag::D_AGG_FUNC,
                l.span,
                format!("@{name} must be assigned the result of an aggregating function"),
            ));
        };
        let f = match builtins::func(fname) {
            Some(f) if f.kind == FuncKind::Aggregating => f,
            _ => {
                return Err(diag(
                    ErrTag::D_AGG_FUNC,
                    l.span,
                    format!("@{name} must be assigned the result of an aggregating function"),
                ))
            }
        };
        if self.acts.speculated {
            return Err(diag(
                ErrTag::D_ACT_SPEC,
                span,
                "aggregating actions may not follow speculate( )",
            ));
        }
        let keys = {
            let mut out = Vec::new();
            for (i, k) in key_exprs.iter().enumerate() {
                let v = self.expr(k)?;
                if v.ty.is_void() {
                    return Err(diag(
                        ErrTag::D_KEY_TYPE,
                        k.span,
                        format!(
                            "void expression may not be used as an aggregation key: key #{}",
                            i + 1
                        ),
                    ));
                }
                out.push(v);
            }
            out
        };
        let vals = self.checked_args(f, fargs, r.span)?;
        let func = self.agg_func(f, fargs, &vals)?;
        if let Some(v) = vals.first() {
            if !v.ty.is_scalar() {
                return Err(diag(
                    ErrTag::D_AGG_SCALAR,
                    v.span,
                    format!("{} argument #1 must be of scalar type", f.display_name()),
                ));
            }
        }
        // Only the value and the optional increment reach codegen.
        let args: Vec<Expr> = match &func {
            AggFunc::Lquantize { .. } => vals
                .iter()
                .enumerate()
                .filter(|(i, _)| *i == 0 || *i == 4)
                .map(|(_, v)| v.clone())
                .collect(),
            AggFunc::Llquantize { .. } => vals
                .iter()
                .enumerate()
                .filter(|(i, _)| *i == 0 || *i == 5)
                .map(|(_, v)| v.clone())
                .collect(),
            _ => vals,
        };
        for inc in args.iter().skip(1) {
            if !inc.ty.is_scalar() {
                return Err(diag(
                    ErrTag::D_AGG_SCALAR,
                    inc.span,
                    format!("{} increment must be of scalar type", f.display_name()),
                ));
            }
        }
        let id = match self.aggs.get(&name).copied() {
            Some(id) => {
                let prev = self.prog.aggregations[id.0 as usize].clone();
                if prev.func.name() != func.name() {
                    return Err(diag(
                        ErrTag::D_AGG_REDEF,
                        r.span,
                        format!(
                            "aggregation redefined: @{name}\n\t current: {}( )\n\tprevious: {}( )",
                            func.name(),
                            prev.func.name()
                        ),
                    ));
                }
                self.check_agg_params(&prev.func, &func, r.span)?;
                self.check_keys(&format!("@{name}"), &prev.keys, &keys, l.span)?;
                key_name::merge(
                    &mut self.prog.aggregations[id.0 as usize].key_names,
                    &key_name::key_names(key_exprs),
                );
                id
            }
            None => {
                let id = AggId(self.prog.aggregations.len() as u32);
                self.prog.aggregations.push(ir::Aggregation {
                    name: name.clone(),
                    func,
                    keys: keys.iter().map(|k| k.ty.clone()).collect(),
                    key_names: key_name::key_names(key_exprs),
                });
                self.aggs.insert(name, id);
                id
            }
        };
        self.acts.aggregated = true;
        Ok(Stmt::AggUpdate {
            agg: id,
            keys,
            args,
            span,
        })
    }

    fn check_agg_params(&self, prev: &AggFunc, cur: &AggFunc, span: Span) -> DResult<()> {
        match (prev, cur) {
            (
                AggFunc::Lquantize {
                    base: b0,
                    limit: l0,
                    step: s0,
                },
                AggFunc::Lquantize { base, limit, step },
            ) => {
                let check = |tag, what: &str, n: u32, a: i64, b: i64| {
                    if a != b {
                        Err(diag(tag, span, format!("lquantize( ) {what} (argument #{n}) doesn't match previous declaration: expected {a}, found {b}")))
                    } else {
                        Ok(())
                    }
                };
                check(
                    ErrTag::D_LQUANT_MATCHBASE,
                    "base",
                    1,
                    *b0 as i64,
                    *base as i64,
                )?;
                check(
                    ErrTag::D_LQUANT_MATCHLIM,
                    "limit",
                    2,
                    *l0 as i64,
                    *limit as i64,
                )?;
                check(
                    ErrTag::D_LQUANT_MATCHSTEP,
                    "step",
                    3,
                    *s0 as i64,
                    *step as i64,
                )
            }
            (
                AggFunc::Llquantize {
                    factor: f0,
                    low: lo0,
                    high: h0,
                    nsteps: n0,
                },
                AggFunc::Llquantize {
                    factor,
                    low,
                    high,
                    nsteps,
                },
            ) => {
                let check = |tag, what: &str, n: u32, a: u16, b: u16| {
                    if a != b {
                        Err(diag(tag, span, format!("llquantize( ) {what} (argument #{n}) doesn't match previous declaration: expected {a}, found {b}")))
                    } else {
                        Ok(())
                    }
                };
                check(ErrTag::D_LLQUANT_FACTORMATCH, "factor", 1, *f0, *factor)?;
                check(ErrTag::D_LLQUANT_LOWMATCH, "low magnitude", 2, *lo0, *low)?;
                check(ErrTag::D_LLQUANT_HIGHMATCH, "high magnitude", 3, *h0, *high)?;
                check(
                    ErrTag::D_LLQUANT_NSTEPMATCH,
                    "linear steps per magnitude",
                    4,
                    *n0,
                    *nsteps,
                )
            }
            _ => Ok(()),
        }
    }

    /// The aggregating function with its constant parameters checked as
    /// `dt_cc.c` checks them.
    fn agg_func(&self, f: &Func, args: &[ast::Expr], vals: &[Expr]) -> DResult<AggFunc> {
        let konst = |i: usize| -> Option<i64> {
            let v = vals.get(i)?;
            if v.ty.is_integer() {
                v.as_const().map(|c| c as i64)
            } else {
                None
            }
        };
        let sp = |i: usize| args.get(i).map(|a| a.span).unwrap_or_default();
        Ok(match f.name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "stddev" => AggFunc::Stddev,
            "quantize" => AggFunc::Quantize,
            "lquantize" => {
                let Some(base) = konst(1) else {
                    return Err(diag(
                        ErrTag::D_LQUANT_BASETYPE,
                        sp(1),
                        "lquantize( ) argument #1 must be an integer constant",
                    ));
                };
                if i32::try_from(base).is_err() {
                    return Err(diag(
                        ErrTag::D_LQUANT_BASEVAL,
                        sp(1),
                        "lquantize( ) argument #1 must be a 32-bit quantity",
                    ));
                }
                let Some(limit) = konst(2) else {
                    return Err(diag(
                        ErrTag::D_LQUANT_LIMTYPE,
                        sp(2),
                        "lquantize( ) argument #2 must be an integer constant",
                    ));
                };
                if i32::try_from(limit).is_err() {
                    return Err(diag(
                        ErrTag::D_LQUANT_LIMVAL,
                        sp(2),
                        "lquantize( ) argument #2 must be a 32-bit quantity",
                    ));
                }
                if limit < base {
                    return Err(diag(
                        ErrTag::D_LQUANT_MISMATCH,
                        sp(2),
                        "lquantize( ) base (argument #1) must be less than limit (argument #2)",
                    ));
                }
                let step = match vals.get(3) {
                    Some(_) => match konst(3) {
                        Some(s) if s > 0 => {
                            if s > u16::MAX as i64 {
                                return Err(diag(
                                    ErrTag::D_LQUANT_STEPVAL,
                                    sp(3),
                                    "lquantize( ) argument #3 must be a 16-bit quantity",
                                ));
                            }
                            s
                        }
                        _ => return Err(diag(
                            ErrTag::D_LQUANT_STEPTYPE,
                            sp(3),
                            "lquantize( ) argument #3 must be a non-zero positive integer constant",
                        )),
                    },
                    None => 1,
                };
                let levels = (limit - base) / step;
                if levels == 0 {
                    return Err(diag(
                        ErrTag::D_LQUANT_STEPLARGE,
                        sp(3).to(sp(2)),
                        "lquantize( ) step (argument #3) too large: must have at least one quantization level",
                    ));
                }
                if levels > u16::MAX as i64 {
                    return Err(diag(
                        ErrTag::D_LQUANT_STEPSMALL,
                        sp(2),
                        "lquantize( ) step (argument #3) too small: number of quantization levels must be a 16-bit quantity",
                    ));
                }
                AggFunc::Lquantize {
                    base: base as i32,
                    limit: limit as i32,
                    step: step as u16,
                }
            }
            "llquantize" => {
                let get = |i: usize, ttag: ErrTag, vtag: ErrTag| -> DResult<u16> {
                    let Some(v) = konst(i) else {
                        return Err(diag(
                            ttag,
                            sp(i),
                            format!("llquantize( ) argument #{i} must be an integer constant"),
                        ));
                    };
                    u16::try_from(v).map_err(|_| {
                        diag(
                            vtag,
                            sp(i),
                            format!(
                                "llquantize( ) argument #{i} must be an unsigned 16-bit quantity"
                            ),
                        )
                    })
                };
                let factor = get(1, ErrTag::D_LLQUANT_FACTORTYPE, ErrTag::D_LLQUANT_FACTORVAL)?;
                let low = get(2, ErrTag::D_LLQUANT_LOWTYPE, ErrTag::D_LLQUANT_LOWVAL)?;
                let high = get(3, ErrTag::D_LLQUANT_HIGHTYPE, ErrTag::D_LLQUANT_HIGHVAL)?;
                let nsteps = get(4, ErrTag::D_LLQUANT_NSTEPTYPE, ErrTag::D_LLQUANT_NSTEPVAL)?;
                if factor < 2 {
                    return Err(diag(
                        ErrTag::D_LLQUANT_FACTORSMALL,
                        sp(1),
                        "llquantize( ) argument #1 (factor) must be at least 2",
                    ));
                }
                if nsteps == 0 || (factor % nsteps != 0 && nsteps % factor != 0) {
                    return Err(diag(
                        ErrTag::D_LLQUANT_FACTORNSTEPS,
                        sp(4),
                        "llquantize( ) argument #1 (factor) must be a multiple of argument #4 (nsteps) or vice versa",
                    ));
                }
                if nsteps > factor && nsteps % factor != 0 {
                    return Err(diag(
                        ErrTag::D_LLQUANT_FACTOREVEN,
                        sp(4),
                        "llquantize( ) argument #4 (nsteps) must be a multiple of argument #1 (factor) when it exceeds it",
                    ));
                }
                if high < low {
                    return Err(diag(
                        ErrTag::D_LLQUANT_MAGRANGE,
                        sp(3),
                        "llquantize( ) argument #3 (high magnitude) must be at least argument #2 (low magnitude)",
                    ));
                }
                if (factor as f64).powi(high as i32 + 1) > u64::MAX as f64 {
                    return Err(diag(
                        ErrTag::D_LLQUANT_MAGTOOBIG,
                        sp(3),
                        "llquantize( ) argument #1 (factor) raised to the power of argument #3 (high magnitude) plus one must fit in 64 bits",
                    ));
                }
                AggFunc::Llquantize {
                    factor,
                    low,
                    high,
                    nsteps,
                }
            }
            _ => AggFunc::Count,
        })
    }
}

fn zero(span: Span) -> Expr {
    Expr {
        kind: I::Const(0),
        ty: crate::types::int(4, true),
        span,
    }
}

/// Whether an expression names an aggregation (`@a` or `@a[…]`).
fn is_agg(e: &ast::Expr) -> bool {
    match &e.kind {
        A::Agg(_) => true,
        A::Index(b, _) => is_agg(b),
        _ => false,
    }
}
