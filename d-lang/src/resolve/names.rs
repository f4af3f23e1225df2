//! Names: what an identifier, `args[ ]`, an associative array or a kernel symbol refers to.
//!
//! An identifier is, in order, a translator parameter, an inline, an
//! enumerator, a D library constant, a built-in variable or a D variable; `[ ]` on a name that is
//! no pointer is an associative array, checked against its key signature.

use super::expr::mk;
use super::Resolver;
use crate::ast::{self, BinOp, ExprKind as A};
use crate::catalog::ProbeInfo;
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I, Scope, VarId};
use crate::span::Span;
use crate::types::{int, Type};
use std::rc::Rc;

impl Resolver<'_> {
    /// An identifier used for its value.
    pub(super) fn ident(&mut self, name: &str, span: Span) -> DResult<Expr> {
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
        // The D library's constants (and NULL) are int literals, as
        // DTrace substitutes them.
        if let Some(v) = crate::library::constant(name) {
            return Ok(mk(I::Const(v as u64), int(4, true), span));
        }
        if let Some((tytext, var)) = crate::builtins::variable(name) {
            let ty = self.type_from_text(tytext).unwrap_or_else(|| int(8, true));
            return Ok(mk(I::Builtin(var), ty, span));
        }
        if let Some(&id) = self.globals.get(name) {
            let v = self.var(id);
            if v.keys.is_some() {
                return Err(bad_ref("associative array", name, span));
            }
            return Ok(mk(I::Var(id), v.ty.clone(), span));
        }
        // `args` is a built-in associative array to DTrace.
        if name == "args" {
            return Err(bad_ref("associative array", name, span));
        }
        if let Some(f) = crate::builtins::func(name) {
            let kind = match f.kind {
                crate::builtins::FuncKind::Subroutine => "function",
                crate::builtins::FuncKind::Action => "tracing function",
                crate::builtins::FuncKind::Aggregating => "aggregating function",
            };
            return Err(bad_ref(kind, name, span));
        }
        Err(diag(
            ErrTag::D_IDENT_UNDEF,
            span,
            format!("failed to resolve {name}: Unknown variable name"),
        ))
    }

    /// Whether identifier `name` names nothing yet: no binding, inline,
    /// enumerator, library constant, built-in variable or function, or
    /// global.
    pub(super) fn never_seen(&self, name: &str) -> bool {
        !(self.bound.iter().any(|(b, _)| b == name)
            || self.inlines.contains_key(name)
            || self.types.enumerators.contains_key(name)
            || crate::library::constant(name).is_some()
            || crate::builtins::variable(name).is_some()
            || crate::builtins::func(name).is_some()
            || self.globals.contains_key(name)
            || name == "args")
    }

    pub(super) fn scope_map(&self, scope: Scope) -> &std::collections::HashMap<String, VarId> {
        match scope {
            Scope::Global => &self.globals,
            Scope::Thread => &self.thread_vars,
            Scope::Clause => &self.clause_vars,
        }
    }

    pub(super) fn scoped_name(scope: Scope, name: &str) -> String {
        match scope {
            Scope::Global => name.to_string(),
            Scope::Thread => format!("self->{name}"),
            Scope::Clause => format!("this->{name}"),
        }
    }

    pub(super) fn scoped_var(&mut self, scope: Scope, name: &str, span: Span) -> DResult<Expr> {
        match self.scope_map(scope).get(name) {
            Some(&id) => {
                let v = self.var(id);
                if v.keys.is_some() {
                    return Err(bad_ref(
                        "associative array",
                        &Self::scoped_name(scope, name),
                        span,
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
    pub(super) fn array_ref(&self, base: &ast::Expr) -> Option<(Scope, String)> {
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

    /// The keys of an associative array (`kind` "associative array") or
    /// aggregation ("aggregation"): none may be void (`D_KEY_TYPE`). A
    /// void action such as `trace(1)` is a void key here, as in DTrace,
    /// once its arguments are checked.
    pub(super) fn key_values(&mut self, keys: &[ast::Expr], kind: &str) -> DResult<Vec<Expr>> {
        let mut out = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let v = match &k.kind {
                A::Call(name, args, _) => match crate::builtins::func(name) {
                    Some(f) if f.kind == crate::builtins::FuncKind::Action && f.ret == "void" => {
                        self.checked_args(f, args, k.span)?;
                        mk(I::Const(0), Type::Void, k.span)
                    }
                    _ => self.expr(k)?,
                },
                _ => self.expr(k)?,
            };
            let v = self.rvalue(v)?;
            if v.ty.is_void() || matches!(v.ty.strip(), Type::Function(_)) {
                return Err(diag(
                    ErrTag::D_KEY_TYPE,
                    k.span,
                    format!(
                        "{} expression may not be used as {kind} index: key #{}",
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
                    "{what}[ ] prototype mismatch: {} key{} passed, {} expected",
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
                        "{what}[ ] key #{} is incompatible with prototype:\n\tprototype: {}\n\t      key: {}",
                        i + 1,
                        t.name(),
                        k.ty.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn index(
        &mut self,
        base: &ast::Expr,
        keys: &[ast::Expr],
        span: Span,
    ) -> DResult<Expr> {
        if let A::Ident(n) = &base.kind {
            if n == "args" && !self.bound.iter().any(|(b, _)| b == "args") {
                return self.probe_arg(keys, span);
            }
            if n == "uregs" && !self.bound.iter().any(|(b, _)| b == "uregs") {
                return self.user_register(keys, span);
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
            let k = self.key_values(keys, "associative array")?;
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
        // A string is indexed as the char array it is: s[i] is *(s + i).
        let string_char = b.ty.is_string().then(|| crate::types::int(1, true));
        let Some(elem) = b.ty.referent().cloned().or(string_char) else {
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
        // A constant index past a fixed-size array of more than one
        // element is refused here; others are checked at run time.
        if let (Type::Array(_, n), Some(c)) = (b.ty.strip(), i.as_const()) {
            let past = if i.ty.is_signed() {
                (c as i64) < 0 || c >= *n
            } else {
                c >= *n
            };
            if *n > 1 && past {
                return Err(diag(
                    ErrTag::D_ARR_BOUNDS,
                    span,
                    format!("index outside array bounds: {c}, max is {n}"),
                ));
            }
        }
        let ptr_ty = Type::Pointer(Rc::new(elem.clone()));
        let sum = mk(
            I::Binary(BinOp::Add, Box::new(b), Box::new(i)),
            ptr_ty,
            span,
        );
        Ok(mk(I::Deref(Box::new(sum)), elem, span))
    }

    /// The one subscript of `args[]` or `uregs[]` (`name`), checked in
    /// DTrace's order: exactly one (`D_PROTO_LEN`), an integer constant
    /// (`D_PROTO_ARG`); the subscript and its value.
    fn constant_subscript(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        span: Span,
    ) -> DResult<(Expr, u64)> {
        if keys.len() != 1 {
            return Err(diag(
                ErrTag::D_PROTO_LEN,
                span,
                format!(
                    "{name}[ ] prototype mismatch: {} args passed, 1 expected",
                    keys.len()
                ),
            ));
        }
        let k = self.expr(&keys[0])?;
        let Some(n) = k.as_const().filter(|_| k.ty.is_integer()) else {
            return Err(diag(
                ErrTag::D_PROTO_ARG,
                keys[0].span,
                format!(
                    "{name}[ ] argument #1 is incompatible with prototype:\n\tprototype: integer constant\n\t argument: {}",
                    k.ty.name()
                ),
            ));
        };
        Ok((k, n))
    }

    /// `uregs[R_x]`: a saved user register of the current thread, as
    /// `uint64_t`. The subscript is checked as `args[]`'s is, and may not
    /// be negative; too large an index is code generation's error.
    fn user_register(&mut self, keys: &[ast::Expr], span: Span) -> DResult<Expr> {
        let (k, n) = self.constant_subscript("uregs", keys, span)?;
        if k.ty.is_signed() && (n as i64) < 0 {
            return Err(diag(
                ErrTag::D_REGS_IDX,
                keys[0].span,
                format!("index {} is out of range for array uregs", n as i64),
            ));
        }
        let ty = self
            .types
            .typedef("uint64_t")
            .cloned()
            .unwrap_or_else(|| crate::types::int(8, false));
        Ok(mk(I::Call("uregs", vec![k]), ty, span))
    }

    /// `args[N]`, checked in DTrace's order (`dt_ident.c`, `dt_probe.c`):
    /// one subscript, an integer constant, inside a clause, a stable set of
    /// probes, an index in range.
    fn probe_arg(&mut self, keys: &[ast::Expr], span: Span) -> DResult<Expr> {
        let (_, n) = self.constant_subscript("args", keys, span)?;
        // Outside a clause (an inline's value) there is no probe.
        if self.clause_desc.is_empty() {
            return Err(diag(
                ErrTag::D_ARGS_NONE,
                span,
                "args[ ] may not be referenced outside of a probe clause",
            ));
        }
        let descs: Vec<(String, Vec<ProbeInfo>)> = self
            .desc_probes
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .cloned()
            .collect();
        let Some((first_desc, first_probes)) = descs.first() else {
            return Err(diag(
                ErrTag::D_ARGS_NONE,
                span,
                format!(
                    "args[ ] may not be referenced because probe description {} matches no probes",
                    self.clause_desc
                ),
            ));
        };
        let first = first_probes[0].clone();
        let first_args = self.catalog.probe_args(&first);
        // DTrace refuses a description whose probes form an unstable set
        // (judged by the providers' stability attributes, which Lumen's
        // catalogue lacks: probes whose argument types differ stand in
        // for it), and types args[] from its first probe.
        for (desc, probes) in &descs {
            let args0 = self.catalog.probe_args(&probes[0]);
            if probes
                .iter()
                .skip(1)
                .any(|p| self.catalog.probe_args(p) != args0)
            {
                return Err(diag(
                    ErrTag::D_ARGS_MULTI,
                    span,
                    format!(
                        "args[ ] may not be referenced because probe description {desc} matches an unstable set of probes"
                    ),
                ));
            }
        }
        // DTrace compiles a clause once per description, each with its
        // own argument types; Lumen compiles it once, so they must agree.
        if let Some((desc, _)) = descs
            .iter()
            .skip(1)
            .find(|(_, p)| self.catalog.probe_args(&p[0]) != first_args)
        {
            return Err(diag(
                ErrTag::D_UNSUPPORTED,
                span,
                format!(
                    "args[ ] may not be referenced in one clause for probe descriptions {first_desc} and {desc}: their arguments differ (Lumen compiles a clause once for all its descriptions; give each its own clause)"
                ),
            ));
        }
        let Some(arg) = first_args.get(n as usize) else {
            return Err(diag(
                ErrTag::D_ARGS_IDX,
                keys[0].span,
                format!(
                    "index {} is out of range for {first_desc} args[ ]",
                    n as i64
                ),
            ));
        };
        let ty = self
            .type_from_text(&arg.d_type)
            .unwrap_or_else(|| int(8, true));
        Ok(mk(I::ProbeArg(n as u32), ty, span))
    }

    /// `` `name ``: the kernel variable as an lvalue of its type, or with
    /// `address` (for `&`name`) its address, which needs no type.
    pub(super) fn kernel_symbol(&mut self, name: &str, span: Span, address: bool) -> DResult<Expr> {
        let Some(sym) = self.catalog.kernel_symbol(name) else {
            return Err(diag(
                ErrTag::D_IDENT_UNDEF,
                span,
                format!(
                    "failed to resolve `{name}: Unknown symbol name (it is in neither \
                     /proc/kallsyms, which holds only text symbols on kernels built \
                     without CONFIG_KALLSYMS_ALL, nor /boot/System.map-`uname -r`)"
                ),
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
}

/// `D_IDENT_BADREF`: a name of one kind used as a scalar, in DTrace's words
/// (`associative array 'a' may not be referenced as scalar`).
pub(super) fn bad_ref(kind: &str, name: &str, span: Span) -> crate::diag::Diagnostic {
    diag(
        ErrTag::D_IDENT_BADREF,
        span,
        format!("{kind} '{name}' may not be referenced as scalar"),
    )
}
