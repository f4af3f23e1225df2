//! Expressions: each kind sent to its lowering; each leaves its value in r0.
//!
//! A value in r0 is an integer in canonical 64-bit form, or for strings a
//! pointer to a zero-padded `strsize` buffer.

use super::{is_stringish, Lower, R};
use crate::codegen::insn::{reg::*, Cond};
use crate::ir::{Expr, ExprKind as K};
use crate::types::Type;

impl Lower<'_> {
    /// Evaluate `e` into r0.
    pub(crate) fn expr(&mut self, e: &Expr) -> R<()> {
        crate::recursion::grow(|| self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> R<()> {
        match &e.kind {
            K::Const(v) => {
                self.imm(R0, *v);
                Ok(())
            }
            K::Str(s) => {
                let off = self.strtab.intern(s);
                self.asm.ld_map_value(R0, self.lay.strings, off);
                Ok(())
            }
            K::Var(_) | K::Elem(..) => self.load_place(e),
            K::Member { .. } => self.member(e),
            K::Builtin(b) => self.builtin(*b, &e.ty),
            K::ProbeArg(n) => {
                let src = match &self.target.typed_args {
                    Some(v) => v.get(*n as usize).cloned(),
                    None => self.target.args.get(*n as usize).cloned(),
                };
                self.arg(src, &e.ty)
            }
            K::KernelSym(s) => Err(self.err(format!("kernel symbol `{s} is not supported yet"))),
            K::Unary(op, a) => self.unary(*op, a, &e.ty),
            K::Binary(op, a, b) => self.binary(*op, a, b, &e.ty),
            K::Ternary(c, a, b) => {
                let els = self.asm.label();
                let end = self.asm.label();
                self.expr(c)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, els);
                self.cond_depth += 1;
                self.expr(a)?;
                self.convert(&a.ty, &e.ty)?;
                self.asm.ja(end);
                self.asm.bind(els);
                self.expr(b)?;
                self.convert(&b.ty, &e.ty)?;
                self.cond_depth -= 1;
                self.asm.bind(end);
                Ok(())
            }
            K::Cast(a) => {
                self.expr(a)?;
                self.convert(&a.ty, &e.ty)
            }
            K::Assign(t, op, v) => self.assign(t, *op, v),
            K::IncDec {
                target,
                inc,
                prefix,
            } => self.incdec(target, *inc, *prefix),
            K::Deref(p) => {
                if self.load_d_array_element(e)? {
                    return Ok(());
                }
                self.expr(p)?;
                self.read_kernel(&e.ty)
            }
            K::AddrOf(a) => match &a.kind {
                K::Member { .. } => {
                    if self.kernel_address(a)? {
                        Ok(())
                    } else {
                        Err(self.err("cannot take the address of a D variable"))
                    }
                }
                _ => Err(self.err("unsupported operand of &")),
            },
            K::Call(name, args) => self.call(name, args, &e.ty),
            K::Stringof(a) => {
                self.expr(a)?;
                if is_stringish(&a.ty) {
                    Ok(())
                } else if a.ty.is_pointer() {
                    self.kernel_string()
                } else {
                    Err(self.err("stringof( ) of a non-string value is not supported yet"))
                }
            }
            K::Xlate(..) => Err(self.err("translators are not supported by code generation yet")),
        }
    }

    /// Convert r0 from type `from` to type `to`.
    pub(crate) fn convert(&mut self, from: &Type, to: &Type) -> R<()> {
        if to.is_void() {
            return Ok(());
        }
        if is_stringish(to) {
            if is_stringish(from) {
                return Ok(());
            }
            if from.is_pointer() {
                return self.kernel_string();
            }
            return Err(self.err(format!("cannot convert {} to {}", from.name(), to.name())));
        }
        if to.is_integer() {
            self.normalize(R0, to);
        }
        Ok(())
    }
}
