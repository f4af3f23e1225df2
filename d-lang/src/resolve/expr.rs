//! Expressions: each kind sent to its rule; literals, `sizeof`, `offsetof`, `stringof` typed here.

use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I, Scope};
use crate::span::Span;
use crate::types::{int, int_named, Type};

const MAX_DEPTH: usize = 1200;

impl Resolver<'_> {
    /// Type an expression used for its value.
    pub(crate) fn expr(&mut self, e: &ast::Expr) -> DResult<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(diag(
                ErrTag::D_SYNTAX,
                e.span,
                "expression is nested too deeply",
            ));
        }
        let r = crate::recursion::grow(|| self.expr_inner(e));
        self.depth -= 1;
        r
    }

    /// Values are used as they are; kept as one place to add array decay.
    pub(crate) fn rvalue(&mut self, e: Expr) -> DResult<Expr> {
        Ok(e)
    }

    fn expr_inner(&mut self, e: &ast::Expr) -> DResult<Expr> {
        let span = e.span;
        match &e.kind {
            A::Int {
                value,
                unsigned,
                longs,
                decimal,
            } => Ok(mk(
                I::Const(*value),
                literal_type(*value, *unsigned, *longs, *decimal),
                span,
            )),
            A::Char(v) => Ok(mk(I::Const(*v as u64), int(4, true), span)),
            A::Str(s) => Ok(mk(I::Str(s.clone()), Type::String, span)),
            A::Ident(name) => self.ident(name, span),
            A::KernelSym(name) => self.kernel_symbol(name, span, false),
            A::SelfVar(name) => self.scoped_var(Scope::Thread, name, span),
            A::ThisVar(name) => self.scoped_var(Scope::Clause, name, span),
            A::Agg(name) => Err(diag(
                ErrTag::D_AGG_NULL,
                span,
                format!("expression has null effect: @{name}"),
            )),
            A::Index(base, keys) => self.index(base, keys, span),
            A::Call(name, args, nspan) => self.call_value(name, args, span, *nspan),
            A::Member {
                base,
                member,
                arrow,
            } => self.member(base, member, *arrow, span),
            A::Unary(op, x) => self.unary(*op, x, span),
            A::Binary(op, l, r) => self.binary(*op, l, r, span),
            A::Assign(op, l, r) => self.assign(*op, l, r, span),
            A::IncDec { inc, prefix, expr } => {
                let opname = if *inc { "++" } else { "--" };
                let t = self.existing_lvalue(expr, opname, true)?;
                if !t.ty.is_scalar() {
                    return Err(diag(
                        ErrTag::D_OP_SCALAR,
                        span,
                        format!("operator {opname} requires operand of scalar type"),
                    ));
                }
                let ty = t.ty.clone();
                Ok(mk(
                    I::IncDec {
                        target: Box::new(t),
                        inc: *inc,
                        prefix: *prefix,
                    },
                    ty,
                    span,
                ))
            }
            A::Ternary(c, a, b) => self.ternary(c, a, b, span),
            A::Cast(tn, x) => {
                let to = self.type_of_name(tn)?;
                let v = self.expr(x)?;
                self.cast(v, to, span)
            }
            A::SizeofType(tn) => {
                let t = self.type_of_name(tn)?;
                self.sizeof_type(&t, span)
            }
            A::SizeofExpr(x) => {
                // A string literal is its bytes and the NUL, not strsize.
                if let A::Str(s) = &x.kind {
                    return Ok(mk(I::Const(s.len() as u64 + 1), self.size_t(), span));
                }
                let v = self.expr(x)?;
                if let I::Member { bits: Some(_), .. } = v.kind {
                    return Err(diag(
                        ErrTag::D_SIZEOF_BITFIELD,
                        span,
                        "cannot apply sizeof to a bit-field",
                    ));
                }
                self.sizeof_type(&v.ty, span)
            }
            A::Offsetof(tn, member) => {
                let t = self.type_of_name(tn)?;
                // A forward declaration is not a struct or union to DTrace
                // (its kind is CTF_K_FORWARD).
                let Some(s) = (match t.strip() {
                    Type::Sou(s) if s.complete => Some(s),
                    _ => None,
                }) else {
                    return Err(diag(
                        ErrTag::D_OFFSETOF_TYPE,
                        span,
                        "offsetof operand must be a struct or union type",
                    ));
                };
                let Some(m) = s.members.iter().find(|m| &m.name == member) else {
                    return Err(diag(
                        ErrTag::D_TYPE_MEMBER,
                        span,
                        format!("{member} is not a member of {}", t.name()),
                    ));
                };
                if m.bits.is_some() {
                    return Err(diag(
                        ErrTag::D_OFFSETOF_BITFIELD,
                        span,
                        format!("cannot take offset of a bit-field: {member}"),
                    ));
                }
                Ok(mk(I::Const(m.offset), self.size_t(), span))
            }
            A::Stringof(x) => {
                let v = self.expr(x)?;
                if !(v.ty.is_scalar() || v.ty.is_string() || v.ty.is_char_string()) {
                    return Err(diag(
                        ErrTag::D_STRINGOF_TYPE,
                        span,
                        format!("cannot apply stringof to a value of type {}", v.ty.name()),
                    ));
                }
                Ok(mk(I::Stringof(Box::new(v)), Type::String, span))
            }
            A::Xlate(tn, x) => self.xlate(tn, x, span),
        }
    }

    fn size_t(&self) -> Type {
        self.types
            .typedef("size_t")
            .cloned()
            .unwrap_or_else(|| int(8, false))
    }

    /// `sizeof` of a type: anything of size 0 (void, a function, a
    /// forward declaration, a dynamic type) is DTrace's one error.
    fn sizeof_type(&self, t: &Type, span: Span) -> DResult<Expr> {
        let unknown = match t.strip() {
            Type::Void | Type::Function(_) | Type::Dyn(_) => true,
            Type::Sou(s) => !s.complete,
            _ => false,
        };
        if unknown {
            return Err(diag(
                ErrTag::D_SIZEOF_TYPE,
                span,
                "cannot apply sizeof to an operand of unknown size",
            ));
        }
        Ok(mk(I::Const(t.size()), self.size_t(), span))
    }
}

/// A typed IR expression.
pub(super) fn mk(kind: I, ty: Type, span: Span) -> Expr {
    Expr { kind, ty, span }
}

/// Truncate a constant to a type's size, sign-extending signed types.
pub(super) fn fit(v: u64, ty: &Type) -> u64 {
    let size = ty.int_size();
    if size == 0 || size >= 8 {
        return v;
    }
    let bits = size as u32 * 8;
    let mask = (1u64 << bits) - 1;
    let v = v & mask;
    if ty.is_signed() && (v >> (bits - 1)) & 1 == 1 {
        v | !mask
    } else {
        v
    }
}

/// C's type for an integer literal.
fn literal_type(value: u64, unsigned: bool, longs: u8, decimal: bool) -> Type {
    let fits_i32 = value <= i32::MAX as u64;
    let fits_u32 = value <= u32::MAX as u64;
    let fits_i64 = value <= i64::MAX as u64;
    let (long_s, long_u) = if longs == 2 {
        ("long long", "unsigned long long")
    } else {
        ("long", "unsigned long")
    };
    if unsigned {
        if longs == 0 && fits_u32 {
            return int_named(4, false, "unsigned int");
        }
        return int_named(8, false, long_u);
    }
    if longs == 0 && fits_i32 {
        return int(4, true);
    }
    if longs == 0 && !decimal && fits_u32 {
        return int_named(4, false, "unsigned int");
    }
    if fits_i64 {
        return int_named(8, true, long_s);
    }
    int_named(8, false, long_u)
}
