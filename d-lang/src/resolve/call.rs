//! Calls: built-in functions checked against their prototypes.
//!
//! A call used for its value is typed here; a call used as a statement goes
//! to [`super::action`], and an assignment to `@name` to [`super::aggregate`].

use super::aggregate::{agg_text, is_agg};
use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::builtins::{self, Func, FuncKind};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I, Stmt};
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

    /// An operand that may be a void action call (`trace(1)`), which DTrace
    /// types as `void` and leaves to the operator to refuse: the value
    /// (void for such a call, once its arguments are checked) and whether
    /// it was one.
    pub(super) fn operand(&mut self, e: &ast::Expr) -> DResult<(Expr, bool)> {
        if let A::Call(name, args, _) = &e.kind {
            if let Some(f) = builtins::func(name) {
                if f.kind == FuncKind::Action && f.ret == "void" {
                    self.checked_args(f, args, e.span)?;
                    let void = Expr {
                        kind: I::Const(0),
                        ty: Type::Void,
                        span: e.span,
                    };
                    return Ok((void, true));
                }
            }
        }
        Ok((self.expr(e)?, false))
    }

    /// Resolve arguments and check them against a built-in's prototype.
    pub(super) fn checked_args(
        &mut self,
        f: &Func,
        args: &[ast::Expr],
        span: Span,
    ) -> DResult<Vec<Expr>> {
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
                self.stack_args(f, &vals)?;
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
            Some(if is_array {
                "associative array"
            } else {
                "scalar"
            })
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

    pub(super) fn checked_len(&mut self, f: &Func, args: &[ast::Expr], span: Span) -> DResult<()> {
        // Check the count only: these actions check their own argument kinds.
        let max = f.max_args();
        let n = args.len();
        if n < f.required || max.is_some_and(|m| n > m) {
            let _ = self.checked_args(f, args, span)?;
        }
        Ok(())
    }
}
