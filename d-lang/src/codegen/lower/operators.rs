//! Operators: unary and binary operators on r0, string comparison, division with DTrace's fault.

use super::{is_stringish, Lower, R};
use crate::ast::{BinOp, UnOp};
use crate::codegen::insn::{reg::*, Alu, Cond, Insn, Size};
use crate::ir::Expr;
use crate::types::Type;

impl Lower<'_> {
    pub(super) fn unary(&mut self, op: UnOp, a: &Expr, ty: &Type) -> R<()> {
        self.expr(a)?;
        match op {
            UnOp::Neg => self.negate(R0),
            UnOp::BitNot => self.asm.push(Insn::alu64_imm(Alu::Xor, R0, -1)),
            UnOp::LogNot => {
                let z = self.asm.label();
                let end = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R0, 0, z);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.ja(end);
                self.asm.bind(z);
                self.asm.push(Insn::mov64_imm(R0, 1));
                self.asm.bind(end);
                return Ok(());
            }
            UnOp::Plus => {}
            UnOp::Deref | UnOp::AddrOf => return Err(self.err("unexpected pointer operator")),
        }
        self.normalize(R0, ty);
        Ok(())
    }

    pub(super) fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, ty: &Type) -> R<()> {
        match op {
            BinOp::LogAnd | BinOp::LogOr => {
                let short = self.asm.label();
                let end = self.asm.label();
                let (short_on, short_val) = if op == BinOp::LogAnd {
                    (Cond::Eq, 0)
                } else {
                    (Cond::Ne, 1)
                };
                self.expr(a)?;
                self.asm.jmp_imm(short_on, R0, 0, short);
                self.cond_depth += 1;
                self.expr(b)?;
                self.cond_depth -= 1;
                self.asm.jmp_imm(short_on, R0, 0, short);
                self.asm.push(Insn::mov64_imm(R0, 1 - short_val));
                self.asm.ja(end);
                self.asm.bind(short);
                self.asm.push(Insn::mov64_imm(R0, short_val));
                self.asm.bind(end);
                return Ok(());
            }
            BinOp::Comma => {
                self.expr(a)?;
                return self.expr(b);
            }
            _ => {}
        }
        let cmp = matches!(
            op,
            BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge | BinOp::Eq | BinOp::Ne
        );
        if cmp && (is_stringish(&a.ty) || is_stringish(&b.ty)) {
            return self.string_compare(op, a, b);
        }
        // An array in traced memory (T->signal->pids[i]) is indexed from
        // its address: the array is never read whole.
        let array_in_memory = matches!(a.ty.strip(), Type::Array(..)) && self.kernel_address(a)?;
        if !array_in_memory {
            self.expr(a)?;
        }
        if op == BinOp::LogXor {
            self.make_bool(R0);
        }
        let slot = self.spill(R0)?;
        self.expr(b)?;
        if op == BinOp::LogXor {
            self.make_bool(R0);
        }
        self.asm.push(Insn::mov64_reg(R1, R0));
        self.unspill(R0, slot);
        // A string's bytes indexed by a value the verifier cannot bound
        // (s[i] = *(s + i)): the address becomes a plain number, read
        // through the checked kernel-memory path like any pointer's.
        if matches!(op, BinOp::Add | BinOp::Sub) && ty.is_pointer() && is_stringish(&a.ty) {
            self.launder(R0);
        }
        // Pointer arithmetic scales the integer side by the element size.
        if matches!(op, BinOp::Add | BinOp::Sub) && ty.is_pointer() {
            let elem = ty.referent().map(|t| t.size()).unwrap_or(1).max(1);
            let indexed = a.ty.is_pointer() || matches!(a.ty.strip(), Type::Array(..));
            if indexed && b.ty.is_integer() && elem > 1 {
                self.asm.push(Insn::alu64_imm(Alu::Mul, R1, elem as i32));
            } else if a.ty.is_integer() && b.ty.is_pointer() && elem > 1 {
                self.asm.push(Insn::alu64_imm(Alu::Mul, R0, elem as i32));
            }
        }
        if cmp {
            let common = if a.ty.is_arith() && b.ty.is_arith() {
                Type::arith_result(&a.ty, &b.ty)
            } else {
                crate::types::int(8, false)
            };
            let signed = common.is_signed();
            let cond = match (op, signed) {
                (BinOp::Lt, true) => Cond::Slt,
                (BinOp::Lt, false) => Cond::Lt,
                (BinOp::Gt, true) => Cond::Sgt,
                (BinOp::Gt, false) => Cond::Gt,
                (BinOp::Le, true) => Cond::Sle,
                (BinOp::Le, false) => Cond::Le,
                (BinOp::Ge, true) => Cond::Sge,
                (BinOp::Ge, false) => Cond::Ge,
                (BinOp::Eq, _) => Cond::Eq,
                _ => Cond::Ne,
            };
            self.set_if(cond, R0, R1);
            return Ok(());
        }
        let signed = ty.is_signed();
        if matches!(op, BinOp::Div | BinOp::Mod) {
            self.divide(op == BinOp::Div, signed);
            if ty.is_integer() {
                self.normalize(R0, ty);
            }
            return Ok(());
        }
        let insn = match op {
            BinOp::Add => Insn::alu64_reg(Alu::Add, R0, R1),
            BinOp::Sub => Insn::alu64_reg(Alu::Sub, R0, R1),
            BinOp::Mul => Insn::alu64_reg(Alu::Mul, R0, R1),
            BinOp::BitAnd => Insn::alu64_reg(Alu::And, R0, R1),
            BinOp::BitOr => Insn::alu64_reg(Alu::Or, R0, R1),
            BinOp::BitXor | BinOp::LogXor => Insn::alu64_reg(Alu::Xor, R0, R1),
            BinOp::Shl => Insn::alu64_reg(Alu::Lsh, R0, R1),
            BinOp::Shr if signed => Insn::alu64_reg(Alu::Arsh, R0, R1),
            BinOp::Shr => Insn::alu64_reg(Alu::Rsh, R0, R1),
            _ => return Err(self.err(format!("operator {} is not supported here", op.as_str()))),
        };
        self.asm.push(insn);
        // Pointer minus pointer counts elements, as in C: the byte
        // difference divided by the element size.
        if op == BinOp::Sub && a.ty.is_pointer() && b.ty.is_pointer() {
            let elem = a.ty.referent().map(|t| t.size()).unwrap_or(1).max(1);
            if elem.is_power_of_two() {
                if elem > 1 {
                    let shift = elem.trailing_zeros() as i32;
                    self.asm.push(Insn::alu64_imm(Alu::Arsh, R0, shift));
                }
            } else {
                self.asm.push(Insn::mov64_imm(R1, elem as i32));
                self.divide(true, true);
            }
        }
        if ty.is_integer() {
            self.normalize(R0, ty);
        }
        Ok(())
    }

    /// r0 = r0 / r1 or r0 % r1. A zero divisor raises DTrace's
    /// divide-by-zero fault before the instruction (where the kernel would
    /// quietly give 0). Signed division divides magnitudes and fixes the sign
    /// (C's truncating division) rather than use cpu v4's signed division,
    /// which rbpf lacks: both backends run the same instructions.
    fn divide(&mut self, div: bool, signed: bool) {
        let op = if div { Alu::Div } else { Alu::Mod };
        let done = self.asm.label();
        let nonzero = self.asm.label();
        self.asm.jmp_imm(Cond::Ne, R1, 0, nonzero);
        self.raise(crate::codegen::object::Fault::DivZero);
        self.asm.bind(nonzero);
        if !signed {
            self.asm.push(Insn::alu64_reg(op, R0, R1));
        } else {
            // r2 = the dividend's sign (the remainder's), r3 = the divisor's.
            self.asm.push(Insn::mov64_reg(R2, R0));
            self.asm.push(Insn::mov64_reg(R3, R1));
            for r in [R0, R1] {
                let pos = self.asm.label();
                self.asm.jmp_imm(Cond::Sge, r, 0, pos);
                self.negate(r);
                self.asm.bind(pos);
            }
            self.asm.push(Insn::alu64_reg(op, R0, R1));
            if div {
                self.asm.push(Insn::alu64_reg(Alu::Xor, R2, R3));
            }
            self.asm.jmp_imm(Cond::Sge, R2, 0, done);
            self.negate(R0);
        }
        self.asm.bind(done);
    }

    /// r0 = (a cond b) ? 1 : 0.
    fn set_if(&mut self, cond: Cond, a: u8, b: u8) {
        let yes = self.asm.label();
        let end = self.asm.label();
        self.asm.jmp_reg(cond, a, b, yes);
        self.asm.push(Insn::mov64_imm(R0, 0));
        self.asm.ja(end);
        self.asm.bind(yes);
        self.asm.push(Insn::mov64_imm(R0, 1));
        self.asm.bind(end);
    }

    pub(super) fn make_bool(&mut self, r: u8) {
        let z = self.asm.label();
        self.asm.jmp_imm(Cond::Eq, r, 0, z);
        self.asm.push(Insn::mov64_imm(r, 1));
        self.asm.bind(z);
    }

    /// Compare two strings byte by byte (bounded by strsize), then apply `op`
    /// to the sign of the difference.
    fn string_compare(&mut self, op: BinOp, a: &Expr, b: &Expr) -> R<()> {
        self.expr(a)?;
        self.convert(&a.ty, &Type::String)?;
        let slot = self.spill(R0)?;
        self.expr(b)?;
        self.convert(&b.ty, &Type::String)?;
        self.asm.push(Insn::mov64_reg(R2, R0));
        self.unspill(R1, slot);
        self.strcmp();
        let cond = match op {
            BinOp::Lt => Cond::Slt,
            BinOp::Gt => Cond::Sgt,
            BinOp::Le => Cond::Sle,
            BinOp::Ge => Cond::Sge,
            BinOp::Eq => Cond::Eq,
            _ => Cond::Ne,
        };
        self.asm.push(Insn::mov64_imm(R1, 0));
        self.set_if(cond, R0, R1);
        Ok(())
    }

    /// r0 = sign of strcmp(r1, r2): -1, 0 or 1. Clobbers r1–r5.
    pub(crate) fn strcmp(&mut self) {
        let top = self.asm.label();
        let diff = self.asm.label();
        let equal = self.asm.label();
        let end = self.asm.label();
        let less = self.asm.label();
        self.asm.push(Insn::mov64_imm(R3, 0));
        self.asm.bind(top);
        self.asm
            .jmp_imm(Cond::Ge, R3, self.lay.strsize as i32, equal);
        self.asm.push(Insn::mov64_reg(R4, R1));
        self.asm.push(Insn::alu64_reg(Alu::Add, R4, R3));
        self.asm.push(Insn::ldx(Size::B, R4, R4, 0));
        self.asm.push(Insn::mov64_reg(R5, R2));
        self.asm.push(Insn::alu64_reg(Alu::Add, R5, R3));
        self.asm.push(Insn::ldx(Size::B, R5, R5, 0));
        self.asm.jmp_reg(Cond::Ne, R4, R5, diff);
        self.asm.jmp_imm(Cond::Eq, R4, 0, equal);
        self.asm.push(Insn::alu64_imm(Alu::Add, R3, 1));
        self.asm.ja(top);
        self.asm.bind(diff);
        self.asm.jmp_reg(Cond::Lt, R4, R5, less);
        self.asm.push(Insn::mov64_imm(R0, 1));
        self.asm.ja(end);
        self.asm.bind(less);
        self.asm.push(Insn::mov64_imm(R0, -1));
        self.asm.ja(end);
        self.asm.bind(equal);
        self.asm.push(Insn::mov64_imm(R0, 0));
        self.asm.bind(end);
    }
}
