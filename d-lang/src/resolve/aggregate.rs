//! Aggregations: `@name[keys] = func(args)` and the aggregating functions' parameters.
//!
//! Constant parameters (`lquantize`'s base, limit and step, `llquantize`'s
//! factor and magnitudes) are checked as libdtrace's `dt_cc.c` checks them,
//! and must agree with the aggregation's earlier uses.

use super::key_name;
use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::{self, Func, FuncKind};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{self, AggFunc, AggId, Expr, Stmt};
use crate::span::Span;

impl Resolver<'_> {
    /// `@a[keys] = func(args)`, checked in DTrace's order: what it cooks
    /// (the function's prototype, `D_AGG_FUNC`, `D_AGG_REDEF`, the keys),
    /// then what its code generator checks (the clause's speculation
    /// rules, `D_AGG_SCALAR`, the function's parameters, agreement with
    /// earlier uses).
    pub(super) fn aggregation(
        &mut self,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> DResult<Stmt> {
        let (name, key_exprs): (String, &[ast::Expr]) = match &l.kind {
            A::Agg(n) => (n.clone(), &[]),
            A::Index(b, k) => match &b.kind {
                A::Agg(n) => (n.clone(), k.as_slice()),
                A::Index(..) => {
                    return Err(diag(
                        ErrTag::D_AGG_MDIM,
                        l.span,
                        format!(
                            "improper attempt to reference {} as a multi-dimensional array",
                            agg_text(l)
                        ),
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
        let vals = self.checked_args(f, fargs, r.span)?;
        let prev = self.aggs.get(&name).copied();
        if let Some(id) = prev {
            let prev_func = self.prog.aggregations[id.0 as usize].func.name();
            if prev_func != f.name {
                // DTrace names the line where the aggregation was first
                // assigned.
                let line = self.agg_defs.get(&id).map_or(0, |s| self.line_of(*s));
                return Err(diag(
                    ErrTag::D_AGG_REDEF,
                    r.span,
                    format!(
                        "aggregation redefined: @{name}\n\t current: @{name} = {}( )\n\tprevious: @{name} = {prev_func}( ) : line {line}",
                        f.name
                    ),
                ));
            }
        }
        let keys = self.key_values(key_exprs, "aggregation")?;
        if let Some(id) = prev {
            let sig = self.prog.aggregations[id.0 as usize].keys.clone();
            self.check_keys(&format!("@{name}"), &sig, &keys, l.span)?;
        }
        self.note_aggregation(span)?;
        if let Some(v) = vals.first() {
            if !v.ty.is_scalar() {
                return Err(diag(
                    ErrTag::D_AGG_SCALAR,
                    v.span,
                    format!("{} argument #1 must be of scalar type", f.display_name()),
                ));
            }
        }
        let func = self.agg_func(f, fargs, &vals)?;
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
        if let Some(id) = prev {
            let prev_func = self.prog.aggregations[id.0 as usize].func;
            self.check_agg_params(&prev_func, &func, r.span)?;
        }
        for inc in args.iter().skip(1) {
            if !inc.ty.is_scalar() {
                return Err(diag(
                    ErrTag::D_AGG_SCALAR,
                    inc.span,
                    format!("{} increment must be of scalar type", f.display_name()),
                ));
            }
        }
        let id = match prev {
            Some(id) => {
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
                self.agg_defs.insert(id, l.span);
                id
            }
        };
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
                        Err(diag(tag, span, format!("llquantize() {what} (argument #{n}) doesn't match previous declaration: expected {a}, found {b}")))
                    } else {
                        Ok(())
                    }
                };
                check(ErrTag::D_LLQUANT_MATCHFACTOR, "factor", 1, *f0, *factor)?;
                check(ErrTag::D_LLQUANT_MATCHLMAG, "lmag", 2, *lo0, *low)?;
                check(ErrTag::D_LLQUANT_MATCHHMAG, "hmag", 3, *h0, *high)?;
                check(ErrTag::D_LLQUANT_MATCHSTEPS, "steps", 4, *n0, *nsteps)
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
                // OL's checks (dt_cg.c), in its order: each parameter's
                // type, then its value; the steps' relation to the factor
                // last. Values are compared as uint64_t, so a negative
                // one is too big.
                let get = |i: usize, ttag: ErrTag| -> DResult<u64> {
                    konst(i).map(|v| v as u64).ok_or_else(|| {
                        diag(
                            ttag,
                            sp(i),
                            format!("llquantize( ) argument #{i} must be an integer constant"),
                        )
                    })
                };
                let u16_val = |i: usize, v: u64, tag: ErrTag| -> DResult<u16> {
                    u16::try_from(v).map_err(|_| {
                        diag(
                            tag,
                            sp(i),
                            format!(
                                "llquantize( ) argument #{i} must be an unsigned 16-bit quantity"
                            ),
                        )
                    })
                };
                let factor = get(1, ErrTag::D_LLQUANT_FACTORTYPE)?;
                if !(2..=u16::MAX as u64).contains(&factor) {
                    return Err(diag(
                        ErrTag::D_LLQUANT_FACTORVAL,
                        sp(1),
                        "llquantize( ) argument #1 must be an unsigned 16-bit quantity greater than or equal to 2",
                    ));
                }
                let factor = factor as u16;
                let low = get(2, ErrTag::D_LLQUANT_LMAGTYPE)?;
                let low = u16_val(2, low, ErrTag::D_LLQUANT_LMAGVAL)?;
                let high = get(3, ErrTag::D_LLQUANT_HMAGTYPE)?;
                let high = u16_val(3, high, ErrTag::D_LLQUANT_HMAGVAL)?;
                if high < low {
                    return Err(diag(
                        ErrTag::D_LLQUANT_HMAGVAL,
                        sp(3),
                        "llquantize( ) argument #3 (high magnitude) must be at least argument #2 (low magnitude)",
                    ));
                }
                if (factor as u64).checked_pow(high as u32 + 1).is_none() {
                    return Err(diag(
                        ErrTag::D_LLQUANT_HMAGVAL,
                        sp(3),
                        "llquantize( ) argument #3 (high magnitude) will cause overflow of 64 bits",
                    ));
                }
                let Some(nsteps) = konst(4).filter(|&v| v > 0) else {
                    return Err(diag(
                        ErrTag::D_LLQUANT_STEPTYPE,
                        sp(4),
                        "llquantize( ) argument #4 must be a non-zero positive integer constant",
                    ));
                };
                let nsteps = u16_val(4, nsteps as u64, ErrTag::D_LLQUANT_STEPVAL)?;
                let steps_err = |msg: &str| Err(diag(ErrTag::D_LLQUANT_STEPVAL, sp(4), msg));
                let (f, n) = (factor as u64, nsteps as u64);
                if n < f && f % n != 0 {
                    return steps_err("llquantize() argument #4 (steps) must evenly divide argument #1 (factor) when steps<factor");
                }
                if n > f {
                    if n % f != 0 {
                        return steps_err("llquantize() argument #4 (steps) must be a multiple of argument #1 (factor) when steps>factor");
                    }
                    if low == 0 && (f * f) % n != 0 {
                        return steps_err("llquantize() argument #4 (steps) must evenly divide the square of argument #1 (factor) when steps>factor and lmag==0");
                    }
                    // factor^(low + 1) fits: high >= low and
                    // factor^(high + 1) was checked above.
                    if low > 0 && f.pow(low as u32 + 1) % n != 0 {
                        return steps_err("llquantize() argument #4 (steps) must evenly divide pow(argument #1 (factor), lmag (argument #2) + 1) when steps>factor and lmag>0");
                    }
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

/// Whether an expression names an aggregation (`@a` or `@a[…]`).
pub(super) fn is_agg(e: &ast::Expr) -> bool {
    match &e.kind {
        A::Agg(_) => true,
        A::Index(b, _) => is_agg(b),
        _ => false,
    }
}

/// `@name` or `@name[…]` as written, for messages.
pub(super) fn agg_text(e: &ast::Expr) -> String {
    match &e.kind {
        A::Agg(n) => format!("@{n}"),
        A::Index(b, _) => agg_text(b),
        _ => String::from("@"),
    }
}
