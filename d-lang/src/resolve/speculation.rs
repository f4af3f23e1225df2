//! Speculation: `speculate`, `commit`, `discard`, and the order rules of actions in a clause.
//!
//! No data after `commit`, nothing destructive or aggregating after
//! `speculate`, and `speculate` before any data-recording action.

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
                (
                    self.acts.recorded,
                    ErrTag::D_SPEC_DREC,
                    "speculate( ) may not follow data-recording actions",
                ),
                (
                    self.acts.aggregated,
                    ErrTag::D_SPEC_DREC,
                    "speculate( ) may not follow aggregating actions",
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
    /// also never after another commit or a data-recording action.
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
                        self.acts.committed,
                        ErrTag::D_COMM_COMM,
                        "commit( ) may not follow commit( )",
                    ),
                    (
                        self.acts.recorded,
                        ErrTag::D_COMM_DREC,
                        "commit( ) may not follow data-recording actions",
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

    /// Record that the clause has used action `f`, refusing what the
    /// speculation rules forbid: data after `commit`, destruction after
    /// `speculate`.
    pub(super) fn note_record(&mut self, f: &Func, span: Span) -> DResult<()> {
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
