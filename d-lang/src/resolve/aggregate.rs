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
    /// `@a[keys] = func(args)`.
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
