//! Expressions: names bound to variables, operators typed by D's rules,
//! constants folded, lvalues checked.

use super::Resolver;
use crate::ast::{self, BinOp, ExprKind as A, UnOp};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I, Scope, VarId};
use crate::span::Span;
use crate::types::{int, int_named, Type};
use std::rc::Rc;

const MAX_DEPTH: usize = 1200;

fn mk(kind: I, ty: Type, span: Span) -> Expr {
    Expr { kind, ty, span }
}

/// Truncate a constant to a type's size, sign-extending signed types.
pub(crate) fn fit(v: u64, ty: &Type) -> u64 {
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
                let t = self.existing_lvalue(expr, opname)?;
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
                let v = self.expr(x)?;
                if matches!(v.ty.strip(), Type::Function(_)) {
                    return Err(diag(
                        ErrTag::D_SIZEOF_TYPE,
                        span,
                        "cannot apply sizeof to a function",
                    ));
                }
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
                let Type::Sou(s) = t.strip() else {
                    return Err(diag(
                        ErrTag::D_OFFSETOF_TYPE,
                        span,
                        "offsetof( ) first argument must be a struct or union type",
                    ));
                };
                if !s.complete {
                    return Err(diag(
                        ErrTag::D_OFFSETOF_TYPE,
                        span,
                        format!("offsetof( ) cannot be applied to a forward declaration: no {} definition is available", t.name()),
                    ));
                }
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

    fn sizeof_type(&self, t: &Type, span: Span) -> DResult<Expr> {
        match t.strip() {
            Type::Void => Err(diag(
                ErrTag::D_SIZEOF_TYPE,
                span,
                "cannot apply sizeof to an expression of type void",
            )),
            Type::Function(_) => Err(diag(
                ErrTag::D_SIZEOF_TYPE,
                span,
                "cannot apply sizeof to a function",
            )),
            Type::Dyn(_) => Err(diag(
                ErrTag::D_SIZEOF_TYPE,
                span,
                "cannot apply sizeof to an expression of dynamic type",
            )),
            Type::Sou(s) if !s.complete => Err(diag(
                ErrTag::D_SIZEOF_TYPE,
                span,
                format!("cannot apply sizeof to an incomplete type: {}", t.name()),
            )),
            _ => Ok(mk(I::Const(t.size()), self.size_t(), span)),
        }
    }

    /// An identifier used for its value.
    fn ident(&mut self, name: &str, span: Span) -> DResult<Expr> {
        if let Some((_, bound)) = self.bound.iter().rev().find(|(n, _)| n == name) {
            return Ok(Expr {
                span,
                ..bound.clone()
            });
        }
        if let Some((ty, value)) = self.inlines.get(name).cloned() {
            if self.bound.iter().filter(|(n, _)| n == "\0inline").count() > 64 {
                return Err(diag(
                    ErrTag::D_SYNTAX,
                    span,
                    format!("inline {name} is recursive"),
                ));
            }
            self.bound
                .push(("\0inline".into(), mk(I::Const(0), Type::Void, span)));
            let v = self.expr(&value);
            self.bound.pop();
            let v = v?;
            return self.cast(v, ty, span);
        }
        if let Some((v, ty)) = self.types.enumerators.get(name).cloned() {
            return Ok(mk(I::Const(v as u64), ty, span));
        }
        if let Some((tytext, var)) = crate::builtins::variable(name) {
            let ty = self.type_from_text(tytext).unwrap_or_else(|| int(8, true));
            return Ok(mk(I::Builtin(var), ty, span));
        }
        if let Some(&id) = self.globals.get(name) {
            let v = self.var(id);
            if v.keys.is_some() {
                return Err(diag(
                    ErrTag::D_IDENT_BADREF,
                    span,
                    format!("array '{name}' may not be referenced as a scalar"),
                ));
            }
            return Ok(mk(I::Var(id), v.ty.clone(), span));
        }
        if name == "args" {
            return Err(diag(
                ErrTag::D_ARGS_IDX,
                span,
                "args[ ] must be indexed by an integer constant",
            ));
        }
        if crate::builtins::func(name).is_some() {
            return Err(diag(
                ErrTag::D_IDENT_BADREF,
                span,
                format!("function '{name}' may not be referenced as a scalar"),
            ));
        }
        Err(diag(
            ErrTag::D_IDENT_UNDEF,
            span,
            format!("failed to resolve {name}: Unknown variable name"),
        ))
    }

    fn scope_map(&self, scope: Scope) -> &std::collections::HashMap<String, VarId> {
        match scope {
            Scope::Global => &self.globals,
            Scope::Thread => &self.thread_vars,
            Scope::Clause => &self.clause_vars,
        }
    }

    fn scoped_name(scope: Scope, name: &str) -> String {
        match scope {
            Scope::Global => name.to_string(),
            Scope::Thread => format!("self->{name}"),
            Scope::Clause => format!("this->{name}"),
        }
    }

    fn scoped_var(&mut self, scope: Scope, name: &str, span: Span) -> DResult<Expr> {
        match self.scope_map(scope).get(name) {
            Some(&id) => {
                let v = self.var(id);
                if v.keys.is_some() {
                    return Err(diag(
                        ErrTag::D_IDENT_BADREF,
                        span,
                        format!(
                            "array '{}' may not be referenced as a scalar",
                            Self::scoped_name(scope, name)
                        ),
                    ));
                }
                Ok(mk(I::Var(id), v.ty.clone(), span))
            }
            None => Err(diag(
                ErrTag::D_VAR_UNDEF,
                span,
                format!(
                    "{} has not yet been declared or assigned",
                    Self::scoped_name(scope, name)
                ),
            )),
        }
    }

    /// Which associative array an indexed name refers to, if it is one.
    fn array_ref(&self, base: &ast::Expr) -> Option<(Scope, String)> {
        match &base.kind {
            A::Ident(n) if crate::builtins::variable(n).is_none() && n != "args" => {
                match self.globals.get(n) {
                    Some(&id) if self.var(id).keys.is_none() => None,
                    _ => Some((Scope::Global, n.clone())),
                }
            }
            A::SelfVar(n) => match self.thread_vars.get(n) {
                Some(&id) if self.var(id).keys.is_none() => None,
                _ => Some((Scope::Thread, n.clone())),
            },
            _ => None,
        }
    }

    fn keys(&mut self, keys: &[ast::Expr]) -> DResult<Vec<Expr>> {
        let mut out = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let v = self.expr(k)?;
            let v = self.rvalue(v)?;
            if v.ty.is_void() || matches!(v.ty.strip(), Type::Function(_)) {
                return Err(diag(
                    ErrTag::D_KEY_TYPE,
                    k.span,
                    format!(
                        "{} expression may not be used as associative array index: key #{}",
                        v.ty.name(),
                        i + 1
                    ),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    /// Check keys against an array's (or aggregation's) signature.
    pub(crate) fn check_keys(
        &self,
        what: &str,
        sig: &[Type],
        keys: &[Expr],
        span: Span,
    ) -> DResult<()> {
        if sig.len() != keys.len() {
            return Err(diag(
                ErrTag::D_PROTO_LEN,
                span,
                format!(
                    "{what}[ ] prototype mismatch: {} arg{} passed, {} expected",
                    keys.len(),
                    if keys.len() == 1 { "" } else { "s" },
                    sig.len()
                ),
            ));
        }
        for (i, (t, k)) in sig.iter().zip(keys).enumerate() {
            let ok = (t.is_integer() && k.ty.is_integer())
                || t.accepts(&k.ty)
                || (t.is_string() && k.ty.is_string());
            if !ok {
                return Err(diag(
                    ErrTag::D_PROTO_ARG,
                    k.span,
                    format!(
                        "{what}[ ] argument #{} is incompatible with prototype:\n\tprototype: {}\n\t argument: {}",
                        i + 1,
                        t.name(),
                        k.ty.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn index(&mut self, base: &ast::Expr, keys: &[ast::Expr], span: Span) -> DResult<Expr> {
        if let A::Ident(n) = &base.kind {
            if n == "args" && !self.bound.iter().any(|(b, _)| b == "args") {
                return self.probe_arg(keys, span);
            }
        }
        if let A::Agg(name) = &base.kind {
            return Err(diag(
                ErrTag::D_AGG_NULL,
                span,
                format!("expression has null effect: @{name}"),
            ));
        }
        if let Some((scope, name)) = self.array_ref(base) {
            let k = self.keys(keys)?;
            let Some(&id) = self.scope_map(scope).get(&name) else {
                let tag = if scope == Scope::Global {
                    ErrTag::D_IDENT_UNDEF
                } else {
                    ErrTag::D_VAR_UNDEF
                };
                let msg = if scope == Scope::Global {
                    format!("failed to resolve {name}: Unknown variable name")
                } else {
                    format!(
                        "{} has not yet been declared or assigned",
                        Self::scoped_name(scope, &name)
                    )
                };
                return Err(diag(tag, base.span, msg));
            };
            let v = self.var(id).clone();
            let sig = v.keys.clone().unwrap_or_default();
            self.check_keys(&Self::scoped_name(scope, &name), &sig, &k, span)?;
            return Ok(mk(I::Elem(id, k), v.ty, span));
        }
        // C indexing of a pointer or array.
        let b = self.expr(base)?;
        if keys.len() != 1 {
            return Err(diag(
                ErrTag::D_OP_PTR,
                span,
                "operator [ ] requires exactly one index for a pointer or array",
            ));
        }
        let i = self.expr(&keys[0])?;
        let Some(elem) = b.ty.referent().cloned() else {
            return Err(diag(
                ErrTag::D_OP_PTR,
                span,
                format!(
                    "operator [ ] may not be applied to operand of type \"{}\"",
                    b.ty.name()
                ),
            ));
        };
        if !i.ty.is_integer() {
            return Err(diag(
                ErrTag::D_OP_INT,
                keys[0].span,
                "operator [ ] requires an index of integral type",
            ));
        }
        if elem.is_void() {
            return Err(diag(
                ErrTag::D_DEREF_VOID,
                span,
                "cannot dereference pointer to void",
            ));
        }
        let ptr_ty = Type::Pointer(Rc::new(elem.clone()));
        let sum = mk(
            I::Binary(BinOp::Add, Box::new(b), Box::new(i)),
            ptr_ty,
            span,
        );
        Ok(mk(I::Deref(Box::new(sum)), elem, span))
    }

    fn probe_arg(&mut self, keys: &[ast::Expr], span: Span) -> DResult<Expr> {
        if keys.len() != 1 {
            return Err(diag(
                ErrTag::D_ARGS_IDX,
                span,
                "args[ ] requires exactly one index",
            ));
        }
        let k = self.expr(&keys[0])?;
        let Some(n) = k.as_const().filter(|_| k.ty.is_integer()) else {
            return Err(diag(
                ErrTag::D_ARGS_IDX,
                keys[0].span,
                "args[ ] must be indexed by an integer constant",
            ));
        };
        let probes = self.probes.clone();
        let Some(first) = probes.first() else {
            return Err(diag(
                ErrTag::D_ARGS_NONE,
                span,
                format!(
                    "args[ ] may not be referenced because probe description {} matches no probes",
                    self.clause_desc
                ),
            ));
        };
        let first_args = self.catalog.probe_args(first);
        if probes
            .iter()
            .skip(1)
            .any(|p| self.catalog.probe_args(p) != first_args)
        {
            return Err(diag(
                ErrTag::D_ARGS_MULTI,
                span,
                format!(
                    "args[ ] may not be referenced because probe description {} matches an unstable set of probes",
                    self.clause_desc
                ),
            ));
        }
        let Some(arg) = first_args.get(n as usize) else {
            return Err(diag(
                ErrTag::D_ARGS_IDX,
                keys[0].span,
                format!(
                    "index {} is out of range for {} args[ ]",
                    n as i64,
                    first.full_name()
                ),
            ));
        };
        let ty = self
            .type_from_text(&arg.d_type)
            .unwrap_or_else(|| int(8, true));
        Ok(mk(I::ProbeArg(n as u32), ty, span))
    }

    /// A member of a translated value — `xlate<T *>(x)->m`, `curpsinfo->m`,
    /// `curlwpsinfo->m` — is that member's translation alone (DTrace
    /// translates member by member); `None` if `base` is not translated.
    fn translated_member(
        &mut self,
        base: &ast::Expr,
        member: &str,
        arrow: bool,
        span: Span,
    ) -> Option<DResult<Expr>> {
        let curthread = |span| ast::Expr {
            kind: A::Ident("curthread".into()),
            span,
        };
        let (out, input) = match &base.kind {
            A::Xlate(tn, x) => {
                let to = match self.type_of_name(tn) {
                    Ok(t) => t,
                    Err(e) => return Some(Err(e)),
                };
                let out = match (to.strip(), arrow) {
                    (Type::Pointer(t), true) => (**t).clone(),
                    (t, false) if !t.is_pointer() => t.clone(),
                    _ => return None,
                };
                (out, (**x).clone())
            }
            A::Ident(n) if arrow && (n == "curpsinfo" || n == "curlwpsinfo") => {
                let name = if n == "curpsinfo" {
                    "psinfo_t"
                } else {
                    "lwpsinfo_t"
                };
                let out = self.type_from_text(name)?;
                (out, curthread(base.span))
            }
            _ => return None,
        };
        let v = match self.expr(&input) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let tr = self.find_translator(&out, &v.ty)?;
        let Type::Sou(sou) = tr.output.strip().clone() else {
            return None;
        };
        let Some(decl) = sou.members.iter().find(|m| m.name == member).cloned() else {
            return Some(Err(diag(
                ErrTag::D_TYPE_MEMBER,
                span,
                format!("{member} is not a member of {}", out.name()),
            )));
        };
        let Some((_, def)) = tr.members.iter().find(|(n, _)| n == member) else {
            return Some(Err(diag(
                ErrTag::D_XLATE_MEMB,
                span,
                format!(
                    "translator member {member} is not defined for {} from {} on this system",
                    out.name(),
                    v.ty.name()
                ),
            )));
        };
        self.bound.push((tr.param.clone(), v));
        let r = self.expr(def);
        self.bound.pop();
        Some(r.map(|mv| {
            if decl.ty.is_integer() && mv.ty.is_integer() {
                mk(I::Cast(Box::new(mv)), decl.ty.clone(), span)
            } else {
                mv
            }
        }))
    }

    fn member(&mut self, base: &ast::Expr, member: &str, arrow: bool, span: Span) -> DResult<Expr> {
        if let Some(r) = self.translated_member(base, member, arrow, span) {
            return r;
        }
        let b = self.expr(base)?;
        let op = if arrow { "->" } else { "." };
        let (sou_ty, base_val) = if arrow {
            let Some(target) =
                b.ty.strip()
                    .clone()
                    .referent()
                    .cloned()
                    .filter(|_| b.ty.is_pointer())
            else {
                return Err(diag(
                    ErrTag::D_OP_PTR,
                    span,
                    format!("operator {op} must be applied to a pointer"),
                ));
            };
            let t = target.clone();
            (t, mk(I::Deref(Box::new(b)), target, span))
        } else {
            (b.ty.clone(), b)
        };
        let Type::Sou(s) = sou_ty.strip() else {
            return Err(diag(
                ErrTag::D_OP_SOU,
                span,
                format!("operator {op} cannot be applied to type \"{}\": must be applied to a struct or union", sou_ty.name()),
            ));
        };
        // A kernel struct reached through a pointer member is a forward
        // declaration until used: complete it from the kernel's types.
        let completed;
        let s = match (&s.complete, &s.name) {
            (false, Some(n)) => {
                let key = (s.is_union, n.clone());
                let known = self.types.sous.get(&key).filter(|k| k.complete).cloned();
                let kw = if s.is_union { "union" } else { "struct" };
                match known.or_else(|| match self.catalog.kernel_type(&format!("{kw} {n}")) {
                    Some(Type::Sou(k)) if k.complete => Some(k),
                    _ => None,
                }) {
                    Some(k) => {
                        self.types.sous.insert(key, k.clone());
                        completed = k;
                        &completed
                    }
                    None => s,
                }
            }
            _ => s,
        };
        if !s.complete {
            return Err(diag(
                ErrTag::D_OP_SOU,
                span,
                format!(
                    "operator {op} cannot be applied to a forward declaration: no {} definition is available",
                    sou_ty.name()
                ),
            ));
        }
        let Some(m) = s.members.iter().find(|m| m.name == member) else {
            return Err(diag(
                ErrTag::D_TYPE_MEMBER,
                span,
                format!("{member} is not a member of {}", sou_ty.name()),
            ));
        };
        Ok(mk(
            I::Member {
                base: Box::new(base_val),
                offset: m.offset,
                bits: m.bits,
            },
            m.ty.clone(),
            span,
        ))
    }

    /// `` `name ``: the kernel variable as an lvalue of its type, or with
    /// `address` (for `&`name`) its address, which needs no type.
    fn kernel_symbol(&mut self, name: &str, span: Span, address: bool) -> DResult<Expr> {
        let Some(sym) = self.catalog.kernel_symbol(name) else {
            return Err(diag(
                ErrTag::D_IDENT_UNDEF,
                span,
                format!("failed to resolve `{name}: Unknown symbol name"),
            ));
        };
        if sym.per_cpu {
            return Err(diag(
                ErrTag::D_IDENT_UNDEF,
                span,
                format!("`{name} is a per-CPU variable: each CPU has its own copy, which D cannot address yet"),
            ));
        }
        let target = sym.ty.clone().unwrap_or(Type::Void);
        let ptr = mk(
            I::Const(sym.addr),
            Type::Pointer(Rc::new(target.clone())),
            span,
        );
        if address {
            return Ok(ptr);
        }
        if sym.ty.is_none() {
            return Err(diag(
                ErrTag::D_IDENT_UNDEF,
                span,
                format!("failed to resolve `{name}: the kernel's type information (BTF) has no type for it; name its type with a cast: *(TYPE *)&`{name}"),
            ));
        }
        Ok(mk(I::Deref(Box::new(ptr)), target, span))
    }

    fn unary(&mut self, op: UnOp, x: &ast::Expr, span: Span) -> DResult<Expr> {
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
                        "cannot dereference function pointer",
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

    fn binary(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, span: Span) -> DResult<Expr> {
        let lv = self.expr(l)?;
        let rv = self.expr(r)?;
        self.binary_typed(op, lv, rv, span)
    }

    fn ternary(
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
                "operator ?: requires an operand of scalar type",
            ));
        }
        let av = self.expr(a)?;
        let bv = self.expr(b)?;
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

    /// An lvalue that must already exist (compound assignment, `++`).
    fn existing_lvalue(&mut self, e: &ast::Expr, opname: &str) -> DResult<Expr> {
        if let A::Ident(n) = &e.kind {
            if crate::builtins::variable(n).is_some() {
                return Err(diag(
                    ErrTag::D_OP_WRITE,
                    e.span,
                    format!("operator {opname} can only be applied to a writable variable"),
                ));
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
        if matches!(root.kind, I::Deref(_)) {
            return Err(diag(
                ErrTag::D_OP_WRITE,
                span,
                format!("operator {opname} can only be applied to a writable variable"),
            ));
        }
        Ok(())
    }

    /// `lhs = rhs` and `lhs op= rhs` (aggregations are handled by the caller).
    fn assign(
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
        let rv = self.expr(r)?;
        let rv = self.rvalue(rv)?;
        if let Some(o) = op {
            let target = self.existing_lvalue(l, &opname)?;
            let combined = self.binary_typed(o, target.clone(), rv.clone(), span)?;
            if !target.ty.accepts(&combined.ty) {
                return Err(diag(
                    ErrTag::D_OP_INCOMPAT,
                    span,
                    format!(
                        "operands have incompatible types: \"{}\" {opname} \"{}\"",
                        target.ty.name(),
                        rv.ty.name()
                    ),
                ));
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
                    return Err(diag(
                        ErrTag::D_IDENT_BADREF,
                        span,
                        format!(
                            "array '{}' may not be referenced as a scalar",
                            Self::scoped_name(scope, name)
                        ),
                    ));
                }
                return Ok(mk(I::Var(id), v.ty.clone(), span));
            }
            if matches!(
                rv.ty.strip(),
                Type::Dyn(crate::types::DynType::Stack | crate::types::DynType::UStack)
            ) {
                return Err(diag(
                    ErrTag::D_OP_DYN,
                    span,
                    format!("operator {opname} cannot be applied to a stack( ) value: stacks may only be aggregation keys or traced"),
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
                    let k = self.keys(keys)?;
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

    fn xlate(&mut self, tn: &ast::TypeName, x: &ast::Expr, span: Span) -> DResult<Expr> {
        let to = self.type_of_name(tn)?;
        let v = self.expr(x)?;
        let (out, pointer) = match to.strip() {
            Type::Pointer(t) => ((**t).clone(), true),
            _ => (to.clone(), false),
        };
        let Some(tr) = self.find_translator(&out, &v.ty) else {
            return Err(diag(
                ErrTag::D_XLATE_NONE,
                span,
                format!(
                    "cannot translate from \"{}\" to \"{}\"",
                    v.ty.name(),
                    to.name()
                ),
            ));
        };
        let Type::Sou(sou) = tr.output.strip().clone() else {
            return Err(diag(
                ErrTag::D_XLATE_SOU,
                span,
                "translator output must be a struct or union",
            ));
        };
        self.bound.push((tr.param.clone(), v.clone()));
        let mut members = Vec::new();
        let mut result = Ok(());
        for (name, e) in &tr.members {
            match self.expr(e) {
                Ok(mv) => {
                    let want = sou
                        .members
                        .iter()
                        .find(|m| &m.name == name)
                        .map(|m| m.ty.clone());
                    if let Some(want) = want {
                        if !want.accepts(&mv.ty) {
                            result = Err(diag(
                                ErrTag::D_XLATE_INCOMPAT,
                                e.span,
                                format!("translator member {name} definition uses incompatible types: \"{}\" = \"{}\"", want.name(), mv.ty.name()),
                            ));
                            break;
                        }
                    }
                    members.push((name.clone(), mv));
                }
                Err(d) => {
                    result = Err(d);
                    break;
                }
            }
        }
        self.bound.pop();
        result?;
        let ty = if pointer {
            to.clone()
        } else {
            tr.output.clone()
        };
        Ok(mk(I::Xlate(Box::new(v), members), ty, span))
    }
}

/// `@name` or `@name[…]` as written, for messages.
pub(crate) fn agg_text(e: &ast::Expr) -> String {
    match &e.kind {
        A::Agg(n) => format!("@{n}"),
        A::Index(b, _) => agg_text(b),
        _ => String::from("@"),
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
