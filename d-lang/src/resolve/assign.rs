//! Assignment: lvalues checked for writability, and D variables created at their first assignment.

use super::aggregate::agg_text;
use super::expr::mk;
use super::Resolver;
use crate::ast::{self, BinOp, ExprKind as A};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I, Scope};
use crate::span::Span;
use crate::types::Type;

impl Resolver<'_> {
    /// An lvalue that must already exist (compound assignment), or that
    /// `++`/`--` (`creates`) makes: a name never seen before becomes a
    /// global `int64_t`, as in DTrace (`/i++ < 10/`).
    pub(super) fn existing_lvalue(
        &mut self,
        e: &ast::Expr,
        opname: &str,
        creates: bool,
    ) -> DResult<Expr> {
        if let A::Ident(n) = &e.kind {
            if crate::builtins::variable(n).is_some() {
                return Err(diag(
                    ErrTag::D_OP_WRITE,
                    e.span,
                    format!("operator {opname} can only be applied to a writable variable"),
                ));
            }
            if creates && self.never_seen(n) {
                let ty = self
                    .type_from_text("int64_t")
                    .unwrap_or_else(|| crate::types::int(8, true));
                self.new_var(n, Scope::Global, ty, None);
            }
        }
        let v = self.expr(e)?;
        self.check_writable(&v, opname, e.span)?;
        Ok(v)
    }

    fn check_writable(&self, v: &Expr, opname: &str, span: Span) -> DResult<()> {
        if !v.is_lvalue() {
            return Err(diag(
                ErrTag::D_OP_LVAL,
                span,
                format!("operator {opname} requires modifiable lvalue as an operand"),
            ));
        }
        let mut root = v;
        while let I::Member { base, .. } = &root.kind {
            root = base;
        }
        // Writability comes from D variables and carries through them:
        // *v, v->m and v[i] may be stored to when v is one (alloca'd
        // memory, checked at run time); a built-in's or a cast's pointee
        // may not.
        let held_in_variable = |p: &Expr| {
            let mut p = match &p.kind {
                I::Binary(BinOp::Add | BinOp::Sub, l, _) => l.as_ref(),
                _ => p,
            };
            // An array member of a D struct (`r.name[0]`) is the struct's.
            while let I::Member { base, .. } = &p.kind {
                p = base;
            }
            matches!(p.kind, I::Var(_) | I::Elem(..))
        };
        if matches!(&root.kind, I::Deref(p) if !held_in_variable(p)) {
            return Err(diag(
                ErrTag::D_OP_WRITE,
                span,
                format!("operator {opname} can only be applied to a writable variable"),
            ));
        }
        Ok(())
    }

    /// `lhs = rhs` and `lhs op= rhs` (aggregations are handled by the caller).
    pub(super) fn assign(
        &mut self,
        op: Option<BinOp>,
        l: &ast::Expr,
        r: &ast::Expr,
        span: Span,
    ) -> DResult<Expr> {
        let opname = match op {
            Some(o) => format!("{}=", o.as_str()),
            None => "=".to_string(),
        };
        if matches!(l.kind, A::Agg(_))
            || matches!(&l.kind, A::Index(b, _) if matches!(b.kind, A::Agg(_)))
        {
            return Err(diag(
                ErrTag::D_AGG_FUNC,
                l.span,
                format!(
                    "{} must be assigned the result of an aggregating function",
                    agg_text(l)
                ),
            ));
        }
        // An aggregating function or a void action on the right is a
        // type mismatch in DTrace (its value types are "aggregating
        // function" and "void"), checked once the call's arguments are.
        if let A::Call(name, args, _) = &r.kind {
            if let Some(f) = crate::builtins::func(name) {
                let right = match f.kind {
                    crate::builtins::FuncKind::Aggregating => Some("aggregating function"),
                    crate::builtins::FuncKind::Action if f.ret == "void" => Some("void"),
                    _ => None,
                };
                if let Some(right) = right {
                    for a in args {
                        self.expr(a)?;
                    }
                    let left = match &l.kind {
                        A::Ident(n) => self.globals.get(n).map(|&id| self.var(id).ty.name()),
                        A::SelfVar(n) => self.thread_vars.get(n).map(|&id| self.var(id).ty.name()),
                        A::ThisVar(n) => self.clause_vars.get(n).map(|&id| self.var(id).ty.name()),
                        _ => None,
                    }
                    // A new variable takes the right side's type: "void", or
                    // for an aggregating function DTrace's "scalar".
                    .unwrap_or_else(|| if right == "void" { "void" } else { "scalar" }.to_string());
                    return Err(diag(
                        ErrTag::D_OP_INCOMPAT,
                        span,
                        format!(
                            "operands have incompatible types: \"{left}\" {opname} \"{right}\""
                        ),
                    ));
                }
            }
        }
        let rv = self.expr(r)?;
        let rv = self.rvalue(rv)?;
        if let Some(o) = op {
            // DTrace makes the name, then reads it: not yet assigned.
            if let A::Ident(n) = &l.kind {
                if self.never_seen(n) {
                    return Err(diag(
                        ErrTag::D_VAR_UNDEF,
                        l.span,
                        format!("{n} has not yet been declared or assigned"),
                    ));
                }
            }
            let target = self.existing_lvalue(l, &opname, false)?;
            let incompat = || {
                diag(
                    ErrTag::D_OP_INCOMPAT,
                    span,
                    format!(
                        "operands have incompatible types: \"{}\" {opname} \"{}\"",
                        target.ty.name(),
                        rv.ty.name()
                    ),
                )
            };
            // `s + 1` is pointer arithmetic on a string, but `s += 1`
            // would store a pointer into it: DTrace refuses it.
            if target.ty.is_string() && matches!(o, BinOp::Add | BinOp::Sub) {
                return Err(incompat());
            }
            let combined = self.binary_typed(o, target.clone(), rv.clone(), span)?;
            if !target.ty.accepts(&combined.ty) {
                return Err(incompat());
            }
            let ty = target.ty.clone();
            return Ok(mk(
                I::Assign(Box::new(target), Some(o), Box::new(rv)),
                ty,
                span,
            ));
        }
        if rv.ty.is_void() {
            return Err(diag(
                ErrTag::D_OP_INCOMPAT,
                span,
                "operator = requires a right-hand operand of non-void type",
            ));
        }
        let target = self.assign_target(l, &rv, &opname)?;
        // A string variable also takes the literal 0 (NULL): it is unset,
        // and reads back as the empty string, as an unset one does.
        let rv = if target.ty.is_string() && rv.ty.is_integer() && rv.as_const() == Some(0) {
            mk(I::Str(Vec::new()), Type::String, rv.span)
        } else {
            rv
        };
        if !target.ty.accepts(&rv.ty) {
            return Err(diag(
                ErrTag::D_OP_INCOMPAT,
                span,
                format!(
                    "operands have incompatible types: \"{}\" = \"{}\"",
                    target.ty.name(),
                    rv.ty.name()
                ),
            ));
        }
        let ty = target.ty.clone();
        Ok(mk(
            I::Assign(Box::new(target), None, Box::new(rv)),
            ty,
            span,
        ))
    }

    /// The type a new variable gets from the first value stored in it.
    fn storage_type(v: &Expr) -> Type {
        match v.ty.strip() {
            Type::Array(e, _) if e.int_size() == 1 => Type::String,
            _ if v.ty.is_integer() && matches!(v.kind, I::Const(_)) && v.ty.int_size() < 8 => {
                v.ty.clone()
            }
            _ => v.ty.clone(),
        }
    }

    /// The target of a plain assignment, creating the variable on first use.
    fn assign_target(&mut self, l: &ast::Expr, rv: &Expr, opname: &str) -> DResult<Expr> {
        let span = l.span;
        let scalar = |this: &mut Self, scope: Scope, name: &str| -> DResult<Expr> {
            if let Some(&id) = this.scope_map(scope).get(name) {
                let v = this.var(id);
                if v.keys.is_some() {
                    return Err(super::names::bad_ref(
                        "associative array",
                        &Self::scoped_name(scope, name),
                        span,
                    ));
                }
                return Ok(mk(I::Var(id), v.ty.clone(), span));
            }
            if matches!(
                rv.ty.strip(),
                Type::Dyn(crate::types::DynType::Stack | crate::types::DynType::UStack)
            ) {
                // DTrace's code generator refuses to evaluate the action.
                let func = match &rv.kind {
                    I::Call(f, _) => f.to_string(),
                    _ => rv.ty.name(),
                };
                return Err(diag(
                    ErrTag::D_CG_EXPR,
                    rv.span,
                    format!("tracing function {func}( ) may not be called from a D expression (D program context required)"),
                ));
            }
            let ty = Self::storage_type(rv);
            let id = this.new_var(name, scope, ty.clone(), None);
            Ok(mk(I::Var(id), ty, span))
        };
        match &l.kind {
            A::Ident(n) => {
                if self.bound.iter().any(|(b, _)| b == n)
                    || self.inlines.contains_key(n)
                    || self.types.enumerators.contains_key(n)
                    || crate::library::constant(n).is_some()
                {
                    return Err(diag(
                        ErrTag::D_OP_LVAL,
                        span,
                        format!("operator {opname} requires modifiable lvalue as an operand"),
                    ));
                }
                if crate::builtins::variable(n).is_some() {
                    return Err(diag(
                        ErrTag::D_OP_WRITE,
                        span,
                        format!("operator {opname} can only be applied to a writable variable"),
                    ));
                }
                if crate::builtins::func(n).is_some() {
                    return Err(diag(
                        ErrTag::D_OP_LVAL,
                        span,
                        format!("operator {opname} requires modifiable lvalue as an operand"),
                    ));
                }
                scalar(self, Scope::Global, n)
            }
            A::SelfVar(n) => scalar(self, Scope::Thread, n),
            A::ThisVar(n) => scalar(self, Scope::Clause, n),
            A::Index(base, keys) => {
                if let Some((scope, name)) = self.array_ref(base) {
                    let k = self.key_values(keys, "associative array")?;
                    if let Some(&id) = self.scope_map(scope).get(&name) {
                        let v = self.var(id).clone();
                        self.check_keys(
                            &Self::scoped_name(scope, &name),
                            v.keys.as_deref().unwrap_or(&[]),
                            &k,
                            span,
                        )?;
                        return Ok(mk(I::Elem(id, k), v.ty, span));
                    }
                    let key_types: Vec<Type> = k.iter().map(Self::storage_type).collect();
                    let ty = Self::storage_type(rv);
                    let id = self.new_var(&name, scope, ty.clone(), Some(key_types));
                    return Ok(mk(I::Elem(id, k), ty, span));
                }
                let v = self.expr(l)?;
                self.check_writable(&v, opname, span)?;
                Ok(v)
            }
            _ => {
                let v = self.expr(l)?;
                self.check_writable(&v, opname, span)?;
                Ok(v)
            }
        }
    }
}
