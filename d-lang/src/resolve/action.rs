//! Actions: the statements that record, print or act, checked as libdtrace's `dt_cc.c` checks them.
//!
//! `trace`, `printf`, `printa`, `exit`, `stack`, the aggregation actions
//! (`clear`, `trunc`…), `setopt` and the destructive actions.

use super::aggregate::is_agg;
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
    ///
    /// Anything else is `tag` (`D_PRINTA_AGGARG`, `D_CLEAR_AGGARG`…) with
    /// DTrace's text, naming the argument's type; DTrace type-checks the
    /// argument first, so its own errors (an unknown name) win.
    pub(super) fn agg_arg(
        &mut self,
        f: &Func,
        a: &ast::Expr,
        argno: usize,
        tag: ErrTag,
    ) -> DResult<AggId> {
        let A::Agg(name) = &a.kind else {
            // `@a[k]` is an aggregation to DTrace (accepted, or *_AGGBAD
            // when never assigned); Lumen takes only `@a` here.
            let ty = if is_agg(a) {
                "aggregation".to_string()
            } else {
                self.expr(a)?.ty.name()
            };
            return Err(diag(
                tag,
                a.span,
                format!(
                    "{} argument #{argno} is incompatible with prototype:\n\tprototype: aggregation\n\t argument: {ty}",
                    f.display_name()
                ),
            ));
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
                self.note_record(f, span)?;
                let id = self.agg_arg(f, &args[0], 1, tag)?;
                Ok(if f.name == "clear" {
                    Action::Clear(id)
                } else {
                    Action::Denormalize(id)
                })
            }
            "trunc" | "normalize" => {
                // The second argument is checked against the prototype
                // (D_PROTO_LEN, D_PROTO_ARG) before the aggregation, as
                // DTrace checks prototypes before generating code.
                let n = self.checked_args(f, args, span)?.into_iter().next();
                let tag = if f.name == "trunc" {
                    ErrTag::D_TRUNC_AGGARG
                } else {
                    ErrTag::D_NORMALIZE_AGGARG
                };
                self.note_record(f, span)?;
                let id = self.agg_arg(f, &args[0], 1, tag)?;
                Ok(match (f.name, n) {
                    ("trunc", n) => Action::Trunc(id, n),
                    (_, Some(n)) => Action::Normalize(id, n),
                    _ => unreachable!("normalize requires two arguments (checked above)"),
                })
            }
            "setopt" => {
                self.checked_len(f, args, span)?;
                self.note_record(f, span)?;
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
                    // D_PRINTF_ARG_FMT, in printf's words.
                    self.format_arg(f, &args[0])?;
                }
                Ok(Action::Destructive(f.name, v))
            }
            _ => {
                self.note_record(f, span)?;
                let v = self.checked_args(f, args, span)?;
                self.stack_args(f, &v)?;
                Ok(Action::Record(f.name, v))
            }
        }
    }

    /// `stack(n)` and `ustack(n, s)` (as actions or aggregation keys): the
    /// frame count must be a positive constant; ustack's string-space
    /// size (accepted, unused) a non-negative one.
    pub(super) fn stack_args(&self, f: &Func, v: &[crate::ir::Expr]) -> DResult<()> {
        if !matches!(f.name, "stack" | "ustack") {
            return Ok(());
        }
        let konst = |x: &crate::ir::Expr, zero_ok: bool| {
            x.as_const().is_some_and(|c| {
                let positive = if x.ty.is_signed() {
                    c as i64 > 0
                } else {
                    c > 0
                };
                x.ty.is_integer() && (positive || (zero_ok && c == 0))
            })
        };
        if let Some(x) = v.first().filter(|x| !konst(x, false)) {
            return Err(diag(
                if f.name == "stack" {
                    ErrTag::D_STACK_SIZE
                } else {
                    ErrTag::D_USTACK_FRAMES
                },
                x.span,
                format!(
                    "{} argument #1 must be a non-zero positive integer constant",
                    f.display_name()
                ),
            ));
        }
        if let Some(x) = v.get(1).filter(|x| !konst(x, true)) {
            return Err(diag(
                ErrTag::D_USTACK_STRSIZE,
                x.span,
                "ustack( ) argument #2 must be a positive integer constant",
            ));
        }
        Ok(())
    }
}
