//! Actions: the statements that record, print or act, checked as libdtrace's `dt_cc.c` checks them.
//!
//! `trace`, `printf`, `printa`, `exit`, `stack`, the aggregation actions
//! (`clear`, `trunc`…), `setopt` and the destructive actions.

use super::speculation::zero;
use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::Func;
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Action, AggId};
use crate::span::Span;
use crate::types::{DynType, Type};

impl Resolver<'_> {
    /// An aggregation argument (`@a`) of `printa`, `clear`, …
    pub(super) fn agg_arg(
        &self,
        f: &Func,
        a: &ast::Expr,
        argno: usize,
        tag: ErrTag,
    ) -> DResult<AggId> {
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
        // Never seen at all: an unknown name, as DTrace reports it;
        // D_PRINTA_AGGBAD is for an @a[…] reference that was never
        // assigned.
        self.aggs.get(name).copied().ok_or_else(|| {
            diag(
                ErrTag::D_IDENT_UNDEF,
                a.span,
                format!("failed to resolve @{name}: Unknown variable name"),
            )
        })
    }

    /// An action statement.
    pub(super) fn action(
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
            "speculate" => self.speculate(f, args, span),
            "commit" | "discard" => self.commit_or_discard(f, args, span),
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
            // DTrace's own answer for these (its prototypes checked
            // first): not implemented. eBPF cannot panic the kernel or
            // enter a debugger, and Lumen has no Java stack helper.
            "jstack" | "panic" | "breakpoint" => {
                self.checked_args(f, args, span)?;
                Err(diag(
                    ErrTag::D_UNKNOWN,
                    span,
                    format!("{}() is not implemented (yet)", f.name),
                ))
            }
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
}
