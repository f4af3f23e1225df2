//! Members and translators: `.` and `->` on structs and unions, and `xlate`.
//!
//! Kernel structs reached through a pointer are completed from the kernel's
//! types on first use; a translated value is translated member by member.

use super::expr::mk;
use super::Resolver;
use crate::ast::{self, ExprKind as A};
use crate::diag::{diag, DResult, ErrTag};
use crate::ir::{Expr, ExprKind as I};
use crate::span::Span;
use crate::types::Type;

impl Resolver<'_> {
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
        let r = r.and_then(|mv| {
            if decl.ty.accepts(&mv.ty) {
                Ok(mv)
            } else {
                Err(diag(
                    ErrTag::D_XLATE_INCOMPAT,
                    def.span,
                    format!(
                        "translator member {member} definition uses incompatible types: \"{}\" = \"{}\"",
                        decl.ty.name(),
                        mv.ty.name()
                    ),
                ))
            }
        });
        Some(r.map(|mv| {
            if decl.ty.is_integer() && mv.ty.is_integer() {
                mk(I::Cast(Box::new(mv)), decl.ty.clone(), span)
            } else {
                mv
            }
        }))
    }

    pub(super) fn member(
        &mut self,
        base: &ast::Expr,
        member: &str,
        arrow: bool,
        span: Span,
    ) -> DResult<Expr> {
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
            let msg = if arrow {
                format!("operator -> cannot be applied to pointer to type \"{}\"; must be applied to a struct or union pointer", sou_ty.name())
            } else {
                format!("operator . cannot be applied to type \"{}\"; must be applied to a struct or union", sou_ty.name())
            };
            return Err(diag(ErrTag::D_OP_SOU, span, msg));
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
                ErrTag::D_OP_INCOMPLETE,
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

    pub(super) fn xlate(&mut self, tn: &ast::TypeName, x: &ast::Expr, span: Span) -> DResult<Expr> {
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
                "translator output type must be a struct or union",
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
