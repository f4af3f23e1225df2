//! Numbers to strings and back: lltostr( ) and strtoll( ), as illumos
//! `dtrace_dif_subr()` and `dtrace_strtoll()`.

use super::strings::Emit;
use super::{Lower, R};
use crate::codegen::asm::Label;
use crate::codegen::insn::{reg::*, Alu, Cond, Size};
use crate::ir::Expr;

impl Lower<'_> {
    /// A base argument (lltostr, strtoll): 10 if absent, checked against
    /// 2..=36 at compile time when constant. Returns the constant, if any.
    fn base_arg(&mut self, name: &str, arg: Option<&Expr>) -> R<Option<i64>> {
        let Some(e) = arg else {
            return Ok(Some(10));
        };
        match e.as_const() {
            Some(b) if !(2..=36).contains(&(b as i64)) => Err(self.err(format!(
                "{name}( ) base {} is invalid: it must be between 2 and 36",
                b as i64
            ))),
            c => Ok(c.map(|b| b as i64)),
        }
    }

    /// Branch to `bad` unless r2 (a run-time base) is within 2..=36.
    fn check_base(&mut self, bad: Label) {
        self.asm.jmp_imm(Cond::Lt, R2, 2, bad);
        self.asm.jmp_imm(Cond::Gt, R2, 36, bad);
    }

    /// `lltostr(n [, base])`: base 10 signed, other bases the unsigned
    /// two's complement; base 16 gets "0x", base 8 a leading "0". A
    /// run-time base outside 2..=36 gives "" (DTrace: illegal operation).
    pub(super) fn lltostr(&mut self, args: &[Expr]) -> R<()> {
        let base = self.base_arg("lltostr", args.get(1))?;
        let v = self.int_arg(&args[0])?;
        let b = match (args.get(1), base) {
            (Some(e), None) => Some(self.int_arg(e)?),
            _ => None,
        };
        // Digits go right to left into `w`, ending before index 70.
        const END: i32 = 70;
        let w = self.work_area(END as u32 + 8)? as i16;
        let dest = self.str_temp()?;
        self.asm.load(Size::DW, R7, FP, v);
        let bad = self.asm.label();
        match b {
            Some(slot) => {
                self.asm.load(Size::DW, R2, FP, slot);
                self.check_base(bad);
            }
            None => self.asm.movi(R2, base.unwrap_or(10) as i32),
        }
        self.free_slots(1 + b.is_some() as usize);
        // r7 = i, r1 = val = (base == 10 && i < 0) ? -i : i
        let positive = self.asm.label();
        self.asm.mov(R1, R7);
        self.asm.jmp_imm(Cond::Ne, R2, 10, positive);
        self.asm.jmp_imm(Cond::Sge, R1, 0, positive);
        self.negate(R1);
        self.asm.bind(positive);
        // What the verifier knows of val would be checked digit by digit.
        self.launder(R1);
        let top = self.asm.label();
        let digits = self.asm.label();
        let letter = self.asm.label();
        let put = self.asm.label();
        self.asm.movi(R0, END - 1);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Eq, R1, 0, digits);
        self.asm.jmp_imm(Cond::Slt, R0, 0, digits);
        self.asm.mov(R3, R1);
        self.asm.alu(Alu::Mod, R3, R2);
        self.asm.jmp_imm(Cond::Gt, R3, 9, letter);
        self.asm.alui(Alu::Add, R3, b'0' as i32);
        self.asm.ja(put);
        self.asm.bind(letter);
        self.asm.alui(Alu::Add, R3, b'a' as i32 - 10);
        self.asm.bind(put);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R0);
        self.asm.store(Size::B, R4, w, R3);
        self.asm.alu(Alu::Div, R1, R2);
        self.asm.alui(Alu::Sub, R0, 1);
        self.asm.ja(top);
        self.asm.bind(digits);
        self.launder(R0);
        // Prefixes, in dtrace.c's order (each written right to left).
        let is_hex_zero = self.asm.label();
        let after_hex_zero = self.asm.label();
        self.asm.jmp_imm(Cond::Ne, R7, 0, after_hex_zero);
        self.asm.jmp_imm(Cond::Eq, R2, 16, is_hex_zero);
        self.asm.ja(after_hex_zero);
        self.asm.bind(is_hex_zero);
        self.put_left(w, END, b'0');
        self.asm.bind(after_hex_zero);
        let not_hex = self.asm.label();
        self.asm.jmp_imm(Cond::Ne, R2, 16, not_hex);
        self.put_left(w, END, b'x');
        self.asm.bind(not_hex);
        let zero = self.asm.label();
        let no_zero = self.asm.label();
        self.asm.jmp_imm(Cond::Eq, R7, 0, zero);
        self.asm.jmp_imm(Cond::Eq, R2, 8, zero);
        self.asm.jmp_imm(Cond::Eq, R2, 16, zero);
        self.asm.ja(no_zero);
        self.asm.bind(zero);
        self.put_left(w, END, b'0');
        self.asm.bind(no_zero);
        let no_minus = self.asm.label();
        self.asm.jmp_imm(Cond::Sge, R7, 0, no_minus);
        self.asm.jmp_imm(Cond::Ne, R2, 10, no_minus);
        self.put_left(w, END, b'-');
        self.asm.bind(no_minus);
        // Copy w[r0 + 1 ..] to the result.
        self.asm.mov(R1, R0);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.movi(R2, self.strsize());
        self.scratch_ptr(R8, w as u32);
        self.scratch_ptr(R7, dest);
        self.copy_range_from(END);
        self.asm.bind(bad);
        self.scratch_ptr(R0, dest);
        Ok(())
    }

    /// w[r0--] = c, if r0 is within the `len`-byte buffer. Clobbers r4.
    fn put_left(&mut self, w: i16, len: i32, c: u8) {
        let skip = self.asm.label();
        self.asm.jmp_imm(Cond::Ge, R0, len, skip);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R0);
        self.asm.storei(Size::B, R4, w, c as i32);
        self.asm.alui(Alu::Sub, R0, 1);
        self.asm.bind(skip);
    }

    /// `strtoll(s [, base])`: dtrace_strtoll( ): blanks and tabs, a sign,
    /// "0x" for base 16 when a hex digit follows, then digits below the
    /// base; overflow wraps. A run-time base outside 2..=36 gives 0.
    pub(super) fn strtoll(&mut self, args: &[Expr]) -> R<()> {
        let size = self.strsize();
        let base = self.base_arg("strtoll", args.get(1))?;
        let s = self.str_arg(&args[0])?;
        let b = match (args.get(1), base) {
            (Some(e), None) => Some(self.int_arg(e)?),
            _ => None,
        };
        self.asm.load(Size::DW, R8, FP, s);
        self.asm.movi(R0, 0);
        let done = self.asm.label();
        match b {
            Some(slot) => {
                self.asm.load(Size::DW, R2, FP, slot);
                self.check_base(done);
            }
            None => self.asm.movi(R2, base.unwrap_or(10) as i32),
        }
        self.free_slots(1 + b.is_some() as usize);
        self.asm.movi(R7, 0); // negative?
                              // Leading blanks and tabs.
        let ws = self.asm.label();
        let ws_next = self.asm.label();
        let ws_done = self.asm.label();
        self.asm.movi(R1, 0);
        self.asm.bind(ws);
        self.asm.jmp_imm(Cond::Ge, R1, size - 1, ws_done);
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.load(Size::B, R3, R3, 0);
        self.asm.jmp_imm(Cond::Eq, R3, b' ' as i32, ws_next);
        self.asm.jmp_imm(Cond::Eq, R3, b'\t' as i32, ws_next);
        self.asm.ja(ws_done);
        self.asm.bind(ws_next);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.ja(ws);
        self.asm.bind(ws_done);
        self.launder(R1);
        self.asm.jmp_imm(Cond::Ge, R1, size - 1, done);
        // A sign.
        let minus = self.asm.label();
        let signed = self.asm.label();
        let hex = self.asm.label();
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.load(Size::B, R3, R3, 0);
        self.asm.jmp_imm(Cond::Eq, R3, b'-' as i32, minus);
        self.asm.jmp_imm(Cond::Eq, R3, b'+' as i32, signed);
        self.asm.ja(hex);
        self.asm.bind(minus);
        self.asm.movi(R7, 1);
        self.asm.bind(signed);
        self.asm.alui(Alu::Add, R1, 1);
        // "0x" or "0X" before a hex digit, in base 16.
        let digits = self.asm.label();
        let prefix = self.asm.label();
        self.asm.bind(hex);
        self.asm.jmp_imm(Cond::Ne, R2, 16, digits);
        self.asm.jmp_imm(Cond::Ge, R1, size - 2, digits);
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.load(Size::B, R4, R3, 0);
        self.asm.jmp_imm(Cond::Ne, R4, b'0' as i32, digits);
        self.asm.load(Size::B, R4, R3, 1);
        self.asm.alui(Alu::Or, R4, 0x20);
        self.asm.jmp_imm(Cond::Ne, R4, b'x' as i32, digits);
        self.asm.load(Size::B, R4, R3, 2);
        let xdigit = self.asm.label();
        self.asm.mov(R5, R4);
        self.asm.alui(Alu::Sub, R5, b'0' as i32);
        self.asm.jmp_imm(Cond::Le, R5, 9, xdigit);
        self.asm.alui(Alu::Or, R4, 0x20);
        self.asm.alui(Alu::Sub, R4, b'a' as i32);
        self.asm.jmp_imm(Cond::Gt, R4, 5, digits);
        self.asm.bind(xdigit);
        self.asm.bind(prefix);
        self.asm.alui(Alu::Add, R1, 2);
        // Digits: r0 = r0 * base + digit.
        let top = self.asm.label();
        let lower = self.asm.label();
        let upper = self.asm.label();
        let have = self.asm.label();
        let sign = self.asm.label();
        self.asm.bind(digits);
        self.asm.movi(R5, 0);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R5, size, sign);
        self.asm.jmp_imm(Cond::Ge, R1, size, sign);
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.load(Size::B, R3, R3, 0);
        self.asm.mov(R4, R3);
        self.asm.alui(Alu::Sub, R4, b'0' as i32);
        self.asm.jmp_imm(Cond::Le, R4, 9, have);
        self.asm.mov(R4, R3);
        self.asm.alui(Alu::Sub, R4, b'a' as i32);
        self.asm.jmp_imm(Cond::Le, R4, 25, lower);
        self.asm.mov(R4, R3);
        self.asm.alui(Alu::Sub, R4, b'A' as i32);
        self.asm.jmp_imm(Cond::Le, R4, 25, upper);
        self.asm.ja(sign);
        self.asm.bind(lower);
        self.asm.bind(upper);
        self.asm.alui(Alu::Add, R4, 10);
        self.asm.bind(have);
        self.asm.jmp_reg(Cond::Ge, R4, R2, sign);
        self.asm.alu(Alu::Mul, R0, R2);
        self.asm.alu(Alu::Add, R0, R4);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.alui(Alu::Add, R5, 1);
        self.asm.ja(top);
        self.asm.bind(sign);
        self.asm.jmp_imm(Cond::Eq, R7, 0, done);
        self.negate(R0);
        self.asm.bind(done);
        // One value for the verifier, whichever byte ended the digits.
        self.launder(R0);
        Ok(())
    }
}
