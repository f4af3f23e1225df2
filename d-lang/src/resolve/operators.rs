//! Operators: unary, binary and ternary operators and casts, typed by D's rules.
//!
//! Integer operations on constants are folded with the result type's signedness.

use super::expr::{fit, mk};
use super::Resolver;
use crate::ast::{self, BinOp, ExprKind as A, UnOp};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I};
use crate::span::Span;
use crate::types::{int, Type};
use std::rc::Rc;

impl Resolver<'_> {
    pub(super) fn unary(&mut self, op: UnOp, x: &ast::Expr, span: Span) -> DResult<Expr> {
        if let (UnOp::AddrOf, A::KernelSym(name)) = (op, &x.kind) {
            return self.kernel_symbol(name, span, true);
        }
        let v = self.expr(x)?;
        let opname = op.as_str();
        match op {
            UnOp::Neg | UnOp::Plus => {
                if !v.ty.is_arith() {
                    return Err(diag(
                        ErrTag::D_OP_ARITH,
                        span,
                        format!("operator {opname} requires an operand of arithmetic type"),
                    ));
                }
            }
            UnOp::BitNot => {
                if !v.ty.is_integer() {
                    return Err(diag(
                        ErrTag::D_OP_INT,
                        span,
                        format!("operator {opname} requires an operand of integral type"),
                    ));
                }
            }
            UnOp::LogNot => {
                if !v.ty.is_scalar() {
                    return Err(diag(
                        ErrTag::D_OP_SCALAR,
                        span,
                        format!("operator {opname} requires an operand of scalar type"),
                    ));
                }
                if let Some(c) = v.as_const() {
                    return Ok(mk(I::Const((c == 0) as u64), int(4, true), span));
                }
                return Ok(mk(I::Unary(op, Box::new(v)), int(4, true), span));
            }
            UnOp::Deref => {
                if matches!(v.ty.strip(), Type::Function(_))
                    || matches!(v.ty.referent().map(|t| t.strip()), Some(Type::Function(_)))
                {
                    return Err(diag(
                        ErrTag::D_DEREF_FUNC,
                        span,
                        "cannot dereference pointer to function",
                    ));
                }
                let Some(t) = v.ty.referent().cloned().filter(|_| v.ty.is_pointer()) else {
                    return Err(diag(
                        ErrTag::D_DEREF_NONPTR,
                        span,
                        "cannot dereference non-pointer type",
                    ));
                };
                if t.is_void() {
                    return Err(diag(
                        ErrTag::D_DEREF_VOID,
                        span,
                        "cannot dereference pointer to void",
                    ));
                }
                return Ok(mk(I::Deref(Box::new(v)), t, span));
            }
            UnOp::AddrOf => {
                match &v.kind {
                    I::Var(_) | I::Elem(..) => {
                        return Err(diag(
                            ErrTag::D_ADDROF_VAR,
                            span,
                            "cannot take address of dynamic variable",
                        ))
                    }
                    I::Member { bits: Some(_), .. } => {
                        return Err(diag(
                            ErrTag::D_ADDROF_BITFIELD,
                            span,
                            "cannot take address of bit-field",
                        ))
                    }
                    I::Deref(inner) => {
                        // &*p is p, with the pointer type of the lvalue.
                        let ty = Type::Pointer(Rc::new(v.ty.clone()));
                        return Ok(mk(inner.kind.clone(), ty, span));
                    }
                    I::Member { .. } => {
                        let ty = Type::Pointer(Rc::new(v.ty.clone()));
                        return Ok(mk(I::AddrOf(Box::new(v)), ty, span));
                    }
                    _ => {
                        return Err(diag(
                            ErrTag::D_ADDROF_LVAL,
                            span,
                            "unacceptable operand for unary & operator",
                        ))
                    }
                }
            }
        }
        let ty = v.ty.promote();
        if let Some(c) = v.as_const() {
            let r = match op {
                UnOp::Neg => c.wrapping_neg(),
                UnOp::BitNot => !c,
                _ => c,
            };
            return Ok(mk(I::Const(fit(r, &ty)), ty, span));
        }
        Ok(mk(I::Unary(op, Box::new(v)), ty, span))
    }

    /// Type a binary operation on already-typed operands.
    pub(crate) fn binary_typed(
        &mut self,
        op: BinOp,
        l: Expr,
        r: Expr,
        span: Span,
    ) -> DResult<Expr> {
        let opname = op.as_str();
        let incompat = |l: &Expr, r: &Expr| {
            diag(
                ErrTag::D_OP_INCOMPAT,
                span,
                format!(
                    "operands have incompatible types: \"{}\" {opname} \"{}\"",
                    l.ty.name(),
                    r.ty.name()
                ),
            )
        };
        let ty = match op {
            BinOp::Comma => {
                if l.as_const().is_some() && r.as_const().is_some() {
                    return Ok(Expr { span, ..r });
                }
                let ty = r.ty.clone();
                return Ok(mk(I::Binary(op, Box::new(l), Box::new(r)), ty, span));
            }
            BinOp::Add | BinOp::Sub => {
                if l.ty.is_arith() && r.ty.is_arith() {
                    Type::arith_result(&l.ty, &r.ty)
                } else if l.ty.is_string() && r.ty.is_integer() && op == BinOp::Add {
                    // s + i: the string from its byte i on, as DTrace's
                    // pointer arithmetic gives it for 0 <= i < strsize;
                    // made as substr(s, i), whose copy the verifier can
                    // bound whatever i is.
                    return Ok(mk(I::Call("substr", vec![l, r]), Type::String, span));
                } else if l.ty.is_pointer() && r.ty.is_integer() {
                    l.ty.clone()
                } else if op == BinOp::Add && l.ty.is_integer() && r.ty.is_pointer() {
                    r.ty.clone()
                } else if op == BinOp::Sub
                    && l.ty.is_pointer()
                    && r.ty.is_pointer()
                    && l.ty.strip() == r.ty.strip()
                {
                    self.types
                        .typedef("ssize_t")
                        .cloned()
                        .unwrap_or_else(|| int(8, true))
                } else {
                    return Err(incompat(&l, &r));
                }
            }
            BinOp::Mul | BinOp::Div => {
                if !l.ty.is_arith() || !r.ty.is_arith() {
                    return Err(diag(
                        ErrTag::D_OP_ARITH,
                        span,
                        format!("operator {opname} requires operands of arithmetic type"),
                    ));
                }
                Type::arith_result(&l.ty, &r.ty)
            }
            BinOp::Mod | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                if !l.ty.is_integer() || !r.ty.is_integer() {
                    return Err(diag(
                        ErrTag::D_OP_INT,
                        span,
                        format!("operator {opname} requires operands of integral type"),
                    ));
                }
                Type::arith_result(&l.ty, &r.ty)
            }
            BinOp::Shl | BinOp::Shr => {
                if !l.ty.is_integer() || !r.ty.is_integer() {
                    return Err(diag(
                        ErrTag::D_OP_INT,
                        span,
                        format!("operator {opname} requires operands of integral type"),
                    ));
                }
                l.ty.promote()
            }
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                // A string compared with NULL (the literal 0): D reads a
                // NULL string as empty, so `s != NULL` is `s != ""`.
                let null = |e: &Expr| e.ty.is_integer() && e.as_const() == Some(0);
                let empty = |e: &Expr| mk(I::Str(Vec::new()), Type::String, e.span);
                if l.ty.is_string() && null(&r) {
                    return self.binary_typed(op, l, empty(&r), span);
                }
                if r.ty.is_string() && null(&l) {
                    return self.binary_typed(op, empty(&l), r, span);
                }
                let strings = (l.ty.is_string() || l.ty.is_char_string())
                    && (r.ty.is_string() || r.ty.is_char_string())
                    && (l.ty.is_string() || r.ty.is_string());
                let ok = (l.ty.is_arith() && r.ty.is_arith())
                    || strings
                    || (l.ty.is_pointer() && r.ty.is_pointer())
                    || (l.ty.is_pointer() && r.ty.is_integer())
                    || (l.ty.is_integer() && r.ty.is_pointer())
                    || (l.ty.is_scalar() && r.ty.is_scalar())
                    || (l.ty.is_char_string() && r.ty.is_char_string());
                if !ok {
                    return Err(incompat(&l, &r));
                }
                int(4, true)
            }
            BinOp::LogAnd | BinOp::LogOr | BinOp::LogXor => {
                if !l.ty.is_scalar() || !r.ty.is_scalar() {
                    return Err(diag(
                        ErrTag::D_OP_SCALAR,
                        span,
                        format!("operator {opname} requires operands of scalar type"),
                    ));
                }
                int(4, true)
            }
        };
        if matches!(op, BinOp::Div | BinOp::Mod) && r.as_const() == Some(0) && r.ty.is_integer() {
            return Err(diag(
                ErrTag::D_DIV_ZERO,
                span,
                "expression contains division by zero",
            ));
        }
        if let (Some(a), Some(b)) = (l.as_const(), r.as_const()) {
            if l.ty.is_integer() && r.ty.is_integer() {
                if let Some(v) = fold(op, a, b, &l.ty, &r.ty, &ty) {
                    return Ok(mk(I::Const(fit(v, &ty)), ty, span));
                }
            }
        }
        Ok(mk(I::Binary(op, Box::new(l), Box::new(r)), ty, span))
    }

    pub(super) fn binary(
        &mut self,
        op: BinOp,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> DResult<Expr> {
        if op == BinOp::Comma {
            let (lv, l_act) = self.operand(l)?;
            let (rv, r_act) = self.operand(r)?;
            if l_act || r_act {
                return Err(diag(
                    ErrTag::D_OP_ACT,
                    span,
                    "operator , operands cannot be actions",
                ));
            }
            return self.binary_typed(op, lv, rv, span);
        }
        let lv = self.expr(l)?;
        let rv = self.expr(r)?;
        self.binary_typed(op, lv, rv, span)
    }

    pub(super) fn ternary(
        &mut self,
        c: &ast::Expr,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
    ) -> DResult<Expr> {
        let cv = self.expr(c)?;
        if !cv.ty.is_scalar() {
            return Err(diag(
                ErrTag::D_OP_SCALAR,
                c.span,
                "operator ?: expression must be of scalar type",
            ));
        }
        let (av, a_act) = self.operand(a)?;
        let (bv, b_act) = self.operand(b)?;
        let ty = if av.ty.is_arith() && bv.ty.is_arith() {
            Type::arith_result(&av.ty, &bv.ty)
        } else if (av.ty.is_string() || av.ty.is_char_string())
            && (bv.ty.is_string() || bv.ty.is_char_string())
        {
            Type::String
        } else if (av.ty.is_pointer() && bv.ty.is_pointer() && av.ty.accepts(&bv.ty))
            || av.ty.strip() == bv.ty.strip()
        {
            av.ty.clone()
        } else {
            return Err(diag(
                ErrTag::D_OP_INCOMPAT,
                span,
                "operator ?: operands must have compatible types",
            ));
        };
        if a_act || b_act {
            return Err(diag(
                ErrTag::D_OP_ACT,
                span,
                "action cannot be used in a conditional context",
            ));
        }
        if let Some(cc) = cv.as_const() {
            if let (Some(x), Some(y)) = (av.as_const(), bv.as_const()) {
                let v = if cc != 0 { x } else { y };
                return Ok(mk(I::Const(fit(v, &ty)), ty, span));
            }
        }
        Ok(mk(
            I::Ternary(Box::new(cv), Box::new(av), Box::new(bv)),
            ty,
            span,
        ))
    }

    pub(crate) fn cast(&mut self, v: Expr, to: Type, span: Span) -> DResult<Expr> {
        let from = &v.ty;
        let ok = to.is_void()
            || (to.is_scalar() && from.is_scalar())
            || (to.is_string() && (from.is_string() || from.is_char_string()))
            || (to.is_pointer() && from.is_char_string())
            || to.strip() == from.strip();
        if !ok {
            return Err(diag(
                ErrTag::D_CAST_INVAL,
                span,
                format!(
                    "invalid cast expression: \"{}\" to \"{}\"",
                    from.name(),
                    to.name()
                ),
            ));
        }
        if let Some(c) = v.as_const() {
            if to.is_integer() && from.is_integer() {
                return Ok(mk(I::Const(fit(c, &to)), to, span));
            }
        }
        if to.strip() == from.strip() {
            return Ok(Expr { ty: to, ..v });
        }
        Ok(mk(I::Cast(Box::new(v)), to, span))
    }
}

/// Fold an integer operation on constants with the result type's signedness.
fn fold(op: BinOp, a: u64, b: u64, lt: &Type, rt: &Type, ty: &Type) -> Option<u64> {
    let signed = ty.is_signed();
    let (sa, sb) = (fit(a, &lt.promote()) as i64, fit(b, &rt.promote()) as i64);
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => {
            if signed {
                sa.checked_div(sb)? as u64
            } else {
                a.checked_div(b)?
            }
        }
        BinOp::Mod => {
            if signed {
                sa.checked_rem(sb)? as u64
            } else {
                a.checked_rem(b)?
            }
        }
        BinOp::Shl => a.checked_shl(b as u32)?,
        BinOp::Shr => {
            if signed {
                sa.checked_shr(b as u32)? as u64
            } else {
                a.checked_shr(b as u32)?
            }
        }
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
            let both_signed = lt.promote().is_signed() && rt.promote().is_signed();
            let ord = if both_signed { sa.cmp(&sb) } else { a.cmp(&b) };
            use std::cmp::Ordering::*;
            let r = match op {
                BinOp::Lt => ord == Less,
                BinOp::Gt => ord == Greater,
                BinOp::Le => ord != Greater,
                BinOp::Ge => ord != Less,
                BinOp::Eq => ord == Equal,
                _ => ord != Equal,
            };
            r as u64
        }
        BinOp::LogAnd => (a != 0 && b != 0) as u64,
        BinOp::LogOr => (a != 0 || b != 0) as u64,
        BinOp::LogXor => ((a != 0) ^ (b != 0)) as u64,
        BinOp::Comma => b,
    })
}
