//! Scratch memory that outlives a statement (alloca( ), copyin( )) and
//! copies into it (bcopy( ), copyinto( )).
//!
//! The memory is carved at compile time from the top of the string
//! temporaries' area, one block per call site, and kept for the rest of
//! the program (see [`Lower::reserve`]); sizes must therefore be integer
//! constants. A destination pointer is checked at run time to lie inside
//! this area, as DTrace's `dtrace_canstore()` checks scratch; a copy to
//! anywhere else is skipped (DTrace would also report a fault).

use super::strings::Emit;
use super::{Lower, R};
use crate::codegen::asm::Label;
use crate::codegen::insn::{helper, reg::*, Alu, Cond};
use crate::codegen::layout::STRING_TEMPS;
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
        let area = STRING_TEMPS * self.lay.strsize;
        let lo = (self.lay.temps_off + area - self.reserved) as i32;
        let hi = (self.lay.temps_off + area) as i32;
        self.asm.mov(R2, R9);
        self.launder(R2);
        self.asm.alu(Alu::Sub, R1, R2);
        self.asm.jmp_imm(Cond::Lt, R1, lo, outside);
        self.asm.jmp_imm(Cond::Gt, R1, hi - size as i32, outside);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R1);
    }

    /// Lower alloca( ), copyin( ), copyinto( ) or bcopy( ).
    pub(super) fn memory_subr(&mut self, name: &str, args: &[Expr]) -> R<()> {
        match name {
            "alloca" => {
                let size = self.const_size(name, &args[0], 1)?;
                if size == 0 {
                    // DTrace's alloca(0) hands out where the next
                    // allocation's memory is, without taking any.
                    let area = STRING_TEMPS * self.lay.strsize;
                    self.scratch_ptr(R0, self.lay.temps_off + area - self.reserved);
                    return Ok(());
                }
                let off = self.reserve(size, "alloca( )")?;
                // DTrace hands out zeroed memory.
                self.zero_scratch(off, size.div_ceil(8) * 8);
                self.scratch_ptr(R0, off);
                Ok(())
            }
            "copyin" => {
                let size = self.const_size(name, &args[1], 2)?;
                self.expr(&args[0])?;
                let off = self.reserve(size, "copyin( )")?;
                self.asm.mov(R3, R0);
                self.scratch_ptr(R1, off);
                self.asm.movi(R2, size as i32);
                self.fault_addr(R3);
                self.checked_read(helper::PROBE_READ_USER);
                self.scratch_ptr(R0, off);
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

    /// Copy `size` bytes from r3 to the address in r0 with `read` (a
    /// probe_read helper), if that address lies in the reserved area.
    fn copy_to_scratch(&mut self, size: u32, read: i32) {
        if size == 0 || self.reserved < size {
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
