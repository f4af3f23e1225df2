//! Scratch memory that outlives a statement (alloca( ), copyin( )) and
//! copies into it (bcopy( ), copyinto( )).
//!
//! alloca( ) and copyin( ) take memory at run time from the firing's
//! alloca area (`scratchsize` bytes, 256 by default), upwards, each
//! allocation zeroed and starting at the next 8-byte boundary, as
//! DTrace's do; what does not fit faults with NOSCRATCH, and a constant
//! size larger than the area is `D_ALLOCA_SIZE`. A destination pointer is
//! checked at run time to lie inside what has been handed out, as
//! DTrace's `dtrace_canstore()` checks scratch; anywhere else faults with
//! BADADDR. strtok( )'s state is still carved at compile time
//! ([`Lower::reserve`]).

use super::strings::Emit;
use super::{Lower, R};
use crate::codegen::asm::Label;
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::layout::STRING_TEMPS;
use crate::diag::{Diagnostic, ErrTag};
use crate::ir::Expr;

/// Whether `name` is lowered by [`Lower::memory_subr`].
pub(super) fn is_memory_subr(name: &str) -> bool {
    matches!(name, "alloca" | "copyin" | "copyinto" | "bcopy")
}

impl Lower<'_> {
    /// Take `bytes` (rounded up to 8) at the top of the temporaries' area
    /// for the rest of the program; returns its scratch offset. Fails if
    /// that would overlap the temporaries the current statement holds.
    pub(super) fn reserve(&mut self, bytes: u32, what: &str) -> R<u32> {
        let bytes = bytes.max(8).div_ceil(8) * 8;
        let area = STRING_TEMPS * self.lay.strsize;
        let in_use = self.temps * self.lay.strsize;
        let free = area.saturating_sub(self.reserved + in_use);
        if bytes > free {
            return Err(self.err(format!(
                "{what} needs {bytes} bytes of scratch space, but only {free} are left \
                 (of {area}: 16 × strsize, shared with string temporaries)"
            )));
        }
        self.reserved += bytes;
        Ok(self.lay.temps_off + area - self.reserved)
    }

    /// With an address as a plain number in r1 (see [`Lower::launder`]):
    /// r4 = the same address as a pointer into scratch, when its `size`
    /// bytes lie wholly in the reserved area (what alloca( ) and copyin( )
    /// handed out), as DTrace's `dtrace_canstore()` demands; else a jump
    /// to `outside`. The offset from the scratch base is taken as numbers
    /// (the base passes through memory too, which also lets a pointer
    /// returned by alloca( ) be subtracted), then bounded by the checks,
    /// so the verifier accepts r4. Clobbers r1 and r2. The caller handles
    /// a reserved area smaller than `size`, where no address is right.
    pub(super) fn reserved_place(&mut self, size: u32, outside: Label) {
        let base = self.lay.alloca_off as i32;
        self.asm.mov(R2, R9);
        self.launder(R2);
        self.asm.alu(Alu::Sub, R1, R2);
        // In the area at all (constant bounds, for the verifier)…
        self.asm.jmp_imm(Cond::Slt, R1, base, outside);
        self.asm.jmp_imm(
            Cond::Sgt,
            R1,
            base + self.lay.alloca_size as i32 - size as i32,
            outside,
        );
        // …and in what has been handed out.
        self.asm
            .load(Size::DW, R2, R9, self.lay.alloca_top_off as i16);
        self.asm.alui(Alu::Add, R2, base - size as i32);
        self.asm.jmp_reg(Cond::Sgt, R1, R2, outside);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R1);
    }

    /// Lower alloca( ), copyin( ), copyinto( ) or bcopy( ).
    pub(super) fn memory_subr(&mut self, name: &str, args: &[Expr]) -> R<()> {
        match name {
            "alloca" => {
                if let Some(n) = args[0].as_const() {
                    if n > u64::from(self.lay.alloca_size) {
                        return Err(Diagnostic::new(
                            ErrTag::D_ALLOCA_SIZE,
                            Some(args[0].span),
                            format!(
                                "alloca({n}) size larger than scratchsize {}",
                                self.lay.alloca_size
                            ),
                        ));
                    }
                }
                self.expr(&args[0])?;
                self.alloc();
                Ok(())
            }
            "copyin" => {
                let size = self.const_size(name, &args[1], 2)?;
                self.expr(&args[0])?;
                let src = self.spill(R0)?;
                self.asm.movi(R0, size as i32);
                self.alloc();
                let dst = self.spill(R0)?;
                self.asm.mov(R1, R0);
                self.asm.movi(R2, size as i32);
                self.asm.push(Insn::ldx(Size::DW, R3, FP, src));
                self.fault_addr(R3);
                self.checked_read(helper::PROBE_READ_USER);
                self.unspill(R0, dst);
                self.unspill(R3, src);
                Ok(())
            }
            "copyinto" => {
                let size = self.const_size(name, &args[1], 2)?;
                let src = self.int_arg(&args[0])?;
                self.expr(&args[2])?;
                self.unspill(R3, src);
                self.copy_to_scratch(size, helper::PROBE_READ_USER);
                Ok(())
            }
            "bcopy" => {
                let size = self.const_size(name, &args[2], 3)?;
                let src = self.int_arg(&args[0])?;
                self.expr(&args[1])?;
                self.unspill(R3, src);
                self.copy_to_scratch(size, helper::PROBE_READ_KERNEL);
                Ok(())
            }
            other => Err(self.err(format!(
                "{other}( ) is not supported by code generation yet"
            ))),
        }
    }

    /// The constant size argument #`n` of `name`.
    fn const_size(&self, name: &str, e: &Expr, n: usize) -> R<u32> {
        let area = STRING_TEMPS * self.lay.strsize;
        match e.as_const() {
            Some(v) if v <= area as u64 => Ok(v as u32),
            Some(v) => Err(self.err(format!(
                "{name}( ) size {v} (argument #{n}) is larger than the {area} bytes of scratch space"
            ))),
            None => Err(self.err(format!(
                "{name}( ) size (argument #{n}) must be an integer constant"
            ))),
        }
    }

    /// Hand out r0 bytes (any value) of this firing's alloca area, zeroed,
    /// as DTrace's alloca( ) does: r0 = a pointer to them, the next
    /// allocation starting at the following 8-byte boundary; more than is
    /// left faults with NOSCRATCH. Clobbers r1–r5.
    pub(super) fn alloc(&mut self) {
        let size = self.lay.alloca_size as i32;
        let top = self.lay.alloca_top_off as i16;
        let base = self.lay.alloca_off as i32;
        let nospace = self.asm.label();
        let zeroed = self.asm.label();
        let done = self.asm.label();
        // Unsigned: a negative size is too large as well.
        self.asm.jmp_imm(Cond::Gt, R0, size, nospace);
        self.asm.load(Size::DW, R2, R9, top);
        // The stored top is never above the area; the check bounds it for
        // the verifier.
        self.asm.jmp_imm(Cond::Gt, R2, size, nospace);
        self.asm.mov(R3, R2);
        self.asm.alu(Alu::Add, R3, R0);
        self.asm.jmp_imm(Cond::Gt, R3, size, nospace);
        self.asm.alui(Alu::Add, R3, 7);
        self.asm.alui(Alu::And, R3, -8);
        self.asm.store(Size::DW, R9, top, R3);
        // Zero [r2, r3) a word at a time.
        let turn = self.asm.label();
        self.asm.mov(R4, R2);
        self.asm.bind(turn);
        self.asm.jmp_reg(Cond::Ge, R4, R3, zeroed);
        self.asm.jmp_imm(Cond::Gt, R4, size - 8, zeroed);
        self.asm.mov(R5, R9);
        self.asm.alui(Alu::Add, R5, base);
        self.asm.alu(Alu::Add, R5, R4);
        self.asm.storei(Size::DW, R5, 0, 0);
        self.asm.alui(Alu::Add, R4, 8);
        self.asm.ja(turn);
        self.asm.bind(zeroed);
        self.asm.mov(R0, R9);
        self.asm.alui(Alu::Add, R0, base);
        self.asm.alu(Alu::Add, R0, R2);
        self.asm.ja(done);
        self.asm.bind(nospace);
        self.asm.movi(R1, 0);
        self.fault_addr(R1);
        self.raise(crate::codegen::object::Fault::NoScratch);
        self.asm.bind(done);
    }

    /// Copy `size` bytes from r3 to the address in r0 with `read` (a
    /// probe_read helper), if that address lies in what alloca( ) handed
    /// out in this firing.
    fn copy_to_scratch(&mut self, size: u32, read: i32) {
        if size == 0 {
            return;
        }
        let outside = self.asm.label();
        let done = self.asm.label();
        // A destination outside alloca'd memory faults at that address,
        // as DTrace's store check does.
        self.fault_addr(R0);
        self.asm.mov(R1, R0);
        self.launder(R1);
        self.reserved_place(size, outside);
        self.asm.mov(R1, R4);
        self.asm.movi(R2, size as i32);
        self.fault_addr(R3);
        self.checked_read(read);
        self.asm.ja(done);
        self.asm.bind(outside);
        self.raise(crate::codegen::object::Fault::BadAddr);
        self.asm.bind(done);
    }
}
