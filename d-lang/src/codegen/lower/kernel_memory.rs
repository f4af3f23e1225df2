//! Kernel memory: values read through kernel pointers (`*p`, `p->m`, bit-fields, strings).
//!
//! Struct member offsets for the kernel's own types come from the engine's
//! BTF ([`Lower::kmember`]).

use super::{is_stringish, Lower, R};
use crate::codegen::insn::{helper, reg::*, Alu, Insn, Size};
use crate::codegen::target::ArgSource;
use crate::ir::{Expr, ExprKind as K};
use crate::types::Type;

impl Lower<'_> {
    /// r0 holds a kernel address: read the string there into a temporary.
    pub(crate) fn kernel_string(&mut self) -> R<()> {
        let t = self.str_temp()?;
        self.asm.push(Insn::mov64_reg(R3, R0));
        self.scratch_ptr(R1, t);
        self.asm.push(Insn::mov64_imm(R2, self.lay.strsize as i32));
        self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
        self.scratch_ptr(R0, t);
        Ok(())
    }

    /// r0 holds a kernel address: read a value of type `ty` from it.
    pub(crate) fn read_kernel(&mut self, ty: &Type) -> R<()> {
        let size = ty.size();
        if is_stringish(ty) {
            let len = size.min(self.lay.strsize as u64 - 1);
            let t = self.str_temp()?;
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.fault_addr(R3);
            self.scratch_ptr(R1, t);
            self.asm.push(Insn::mov64_imm(R2, len as i32));
            self.checked_read(helper::PROBE_READ_KERNEL);
            self.scratch_ptr(R0, t);
            return Ok(());
        }
        if !(ty.is_integer() || ty.is_pointer()) || size == 0 || size > 8 {
            return Err(self.err(format!(
                "reading a {} from kernel memory is not supported yet",
                ty.name()
            )));
        }
        // Read into the zero-key slot's neighbour on the stack; a bad
        // address is DTrace's invalid-address fault.
        self.asm
            .push(Insn::st(Size::DW, FP, -16 - self.stack as i16, 0));
        self.asm.push(Insn::mov64_reg(R3, R0));
        self.fault_addr(R3);
        self.asm.push(Insn::mov64_reg(R1, FP));
        self.asm
            .push(Insn::alu64_imm(Alu::Add, R1, -16 - self.stack));
        self.asm.push(Insn::mov64_imm(R2, size as i32));
        self.checked_read(helper::PROBE_READ_KERNEL);
        self.asm
            .push(Insn::ldx(Size::of(size), R0, FP, -16 - self.stack as i16));
        self.normalize(R0, ty);
        Ok(())
    }

    pub(super) fn member(&mut self, e: &Expr) -> R<()> {
        let K::Member { base, offset, bits } = &e.kind else {
            unreachable!("member() is called on members")
        };
        if let Some((shift, width)) = *bits {
            // Read the storage unit (the member type's size), then shift
            // the field down and mask it (sign-extending a signed field).
            if !self.kernel_address(base)? {
                return Err(self.err(
                    "bit-field members of D variables are not supported by code generation yet",
                ));
            }
            let unit = e.ty.strip().clone();
            self.asm.push(Insn::alu64_imm(Alu::Add, R0, *offset as i32));
            self.read_kernel(&crate::types::int(unit.size().clamp(1, 8) as u8, false))?;
            let width = width.clamp(1, 64) as i32;
            let shift = shift as i32;
            if e.ty.is_signed() {
                self.asm
                    .push(Insn::alu64_imm(Alu::Lsh, R0, 64 - shift - width));
                self.asm.push(Insn::alu64_imm(Alu::Arsh, R0, 64 - width));
            } else {
                if shift > 0 {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, shift));
                }
                if width < 64 {
                    self.imm(R1, (1u64 << width) - 1);
                    self.asm.push(Insn::alu64_reg(Alu::And, R0, R1));
                }
            }
            return Ok(());
        }
        // A member of a translated argument: its own source.
        if let K::Deref(p) = &base.kind {
            if let K::ProbeArg(n) = p.kind {
                if let Some(ArgSource::Translated(members)) = self.target.args.get(n as usize) {
                    let src = members
                        .iter()
                        .find(|(off, _)| *off as u64 == *offset)
                        .map(|(_, s)| s.clone())
                        .ok_or_else(|| {
                            self.err(format!(
                                "this member of args[{n}] is not available for {}",
                                self.probe.full_name()
                            ))
                        })?;
                    return self.arg(Some(src), &e.ty);
                }
            }
        }
        if self.kernel_address(base)? {
            self.asm.push(Insn::alu64_imm(Alu::Add, R0, *offset as i32));
            return self.read_kernel(&e.ty);
        }
        self.load_place(e)
    }

    /// If `e` is an object in traced memory — `*p`, or a member of one,
    /// however nested (`p->a.b.c`) — r0 = its address and `true`; else
    /// `false` with nothing emitted (a D variable).
    pub(crate) fn kernel_address(&mut self, e: &Expr) -> R<bool> {
        match &e.kind {
            K::Deref(p) => {
                self.expr(p)?;
                Ok(true)
            }
            K::Member {
                base,
                offset,
                bits: None,
            } if Self::in_traced_memory(base) => {
                self.kernel_address(base)?;
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, *offset as i32));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn in_traced_memory(e: &Expr) -> bool {
        match &e.kind {
            K::Deref(_) => true,
            K::Member {
                base, bits: None, ..
            } => Self::in_traced_memory(base),
            _ => false,
        }
    }

    /// Offset of a kernel struct member, from the engine's BTF.
    pub(super) fn kmember(&self, strct: &str, member: &str) -> R<u32> {
        self.targets
            .kernel_member(strct, member)
            .map(|(off, _)| off)
            .ok_or_else(|| {
                self.err(format!(
                    "kernel type information (BTF) has no {strct}.{member}"
                ))
            })
    }
}
