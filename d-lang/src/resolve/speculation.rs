//! Speculation: `speculate`, `commit`, `discard`, and the order rules of actions in a clause.
//!
//! No data or aggregation after `commit`, nothing destructive or
//! aggregating after `speculate`, and `speculate` and `commit` before any
//! data-recording or aggregating action (libdtrace's `dt_cg_clsflags`).

use super::Resolver;
use crate::ast;
use crate::builtins::Func;
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Action, Expr, ExprKind as I};
use crate::span::Span;

impl Resolver<'_> {
    /// `speculate(id)`: never after another `speculate`, a `commit`, or a
    /// data-recording or aggregating action.
    pub(super) fn speculate(
        &mut self,
        f: &Func,
        args: &[ast::Expr],
        span: Span,
    ) -> DResult<Action> {
        refuse_first(
            span,
            &[
                (
                    self.acts.speculated,
                    ErrTag::D_SPEC_SPEC,
                    "speculate( ) may not follow speculate( )",
                ),
                (
                    self.acts.committed,
                    ErrTag::D_SPEC_COMM,
                    "speculate( ) may not follow commit( )",
                ),
                // DTrace has one message for data and aggregations.
                (
                    self.acts.recorded || self.acts.aggregated,
                    ErrTag::D_SPEC_DREC,
                    "speculate( ) may not follow data-recording action(s)",
                ),
            ],
        )?;
        let v = self.checked_args(f, args, span)?;
        self.acts.speculated = true;
        Ok(Action::Speculate(
            v.into_iter().next().unwrap_or_else(|| zero(span)),
        ))
    }

    /// `commit(id)` and `discard(id)`: never after `speculate`; `commit`
    /// also never after a data-recording or aggregating action. Two
    /// `commit()`s are fine, as in DTrace.
    pub(super) fn commit_or_discard(
        &mut self,
        f: &Func,
        args: &[ast::Expr],
        span: Span,
    ) -> DResult<Action> {
        if f.name == "commit" {
            refuse_first(
                span,
                &[
                    (
                        self.acts.speculated,
                        ErrTag::D_ACT_SPEC,
                        "commit( ) may not follow speculate( )",
                    ),
                    (
                        self.acts.recorded || self.acts.aggregated,
                        ErrTag::D_COMM_DREC,
                        "commit( ) may not follow data-recording action(s)",
                    ),
                ],
            )?;
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

    /// Record that the clause has used action `f` (any action but
    /// `speculate`, `commit` and `discard`: DTrace counts them all as
    /// data-recording), refusing what the speculation rules forbid, in
    /// `dt_cg_clsflags`'s order: destruction or `exit` after `speculate`,
    /// then data after `commit`.
    pub(super) fn note_record(&mut self, f: &Func, span: Span) -> DResult<()> {
        if self.acts.speculated && f.flags.destructive {
            return Err(diag(
                ErrTag::D_ACT_SPEC,
                span,
                "destructive actions may not follow speculate( )",
            ));
        }
        if self.acts.speculated && f.name == "exit" {
            return Err(diag(
                ErrTag::D_EXIT_SPEC,
                span,
                "exit( ) may not follow speculate( )",
            ));
        }
        if self.acts.committed {
            return Err(diag(
                ErrTag::D_DREC_COMM,
                span,
                "data-recording actions may not follow commit( )",
            ));
        }
        self.acts.recorded = true;
        if f.flags.destructive {
            self.prog.destructive = true;
        }
        Ok(())
    }

    /// Record that the clause aggregates, refusing it after `commit` or
    /// `speculate` (DTrace checks them in that order).
    pub(super) fn note_aggregation(&mut self, span: Span) -> DResult<()> {
        refuse_first(
            span,
            &[
                (
                    self.acts.committed,
                    ErrTag::D_AGG_COMM,
                    "aggregating actions may not follow commit( )",
                ),
                (
                    self.acts.speculated,
                    ErrTag::D_AGG_SPEC,
                    "aggregating actions may not follow speculate( )",
                ),
            ],
        )?;
        self.acts.aggregated = true;
        Ok(())
    }
}

/// The error of the first rule broken, in order: (broken, tag, message).
fn refuse_first(span: Span, rules: &[(bool, ErrTag, &str)]) -> DResult<()> {
    match rules.iter().find(|(broken, _, _)| *broken) {
        Some(&(_, tag, message)) => Err(diag(tag, span, message)),
        None => Ok(()),
    }
}

/// The speculation id when none is given: 0.
pub(super) fn zero(span: Span) -> Expr {
    Expr {
        kind: I::Const(0),
        ty: crate::types::int(4, true),
        span,
    }
}
