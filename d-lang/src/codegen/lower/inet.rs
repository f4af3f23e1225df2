//! inet_ntoa( ), inet_ntoa6( ) and inet_ntop( ): addresses in memory to
//! text, as illumos `dtrace_dif_subr()` writes them.
//!
//! IPv4 is dotted decimal in memory (network) order. IPv6 follows RFC 1884
//! with dtrace.c's own choice of the zero run to compress (its byte-wise
//! scan, ties and all), and prints IPv4-mapped and IPv4-compatible
//! addresses with a dotted tail (inet_ntoa6( ) prints only the tail).
//! Address families are Linux's: AF_INET 2, AF_INET6 10.
//!
//! The text is built right to left, as in dtrace.c, into a buffer in a
//! work area, then copied to the start of a string temporary. Every piece
//! of state lives in a scratch word, so the verifier's paths rejoin after
//! each byte; the loops over address bytes are unrolled.

use super::strings::Emit;
use super::{Lower, R};
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::ir::Expr;

/// Linux's address families.
const AF_INET: u64 = 2;
const AF_INET6: u64 = 10;

/// Work area layout (offsets from its start).
const IP: i16 = 0; // 16 address bytes
const FIRSTZERO: i16 = 16;
const TRYZERO: i16 = 24;
const NUMZERO: i16 = 32;
const END: i16 = 40; // next byte to write, right to left
const V6END: i16 = 48;
const RUN_TOP: i16 = 56; // last group of the compressed run, or -100
const BUF: i16 = 64; // text, NUL at BUF + TEXT_END
const TEXT_END: i32 = 46; // INET6_ADDRSTRLEN - 1
const AREA: u32 = 64 + 48;

/// What to print.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    V4,
    V6,
    /// inet_ntoa6( ): like V6, but only the IPv4 tail of a mapped or
    /// compatible address.
    V6Tail,
}

/// Whether `name` is lowered by [`Lower::inet_subr`].
pub(super) fn is_inet_subr(name: &str) -> bool {
    matches!(name, "inet_ntoa" | "inet_ntoa6" | "inet_ntop")
}

impl Lower<'_> {
    /// Lower inet_ntoa( ), inet_ntoa6( ) or inet_ntop( ).
    pub(super) fn inet_subr(&mut self, name: &str, args: &[Expr]) -> R<()> {
        let (form, addr, af) = match name {
            "inet_ntoa" => (Some(Form::V4), &args[0], None),
            "inet_ntoa6" => (Some(Form::V6Tail), &args[0], None),
            _ => match args[0].as_const() {
                Some(AF_INET) => (Some(Form::V4), &args[1], None),
                Some(AF_INET6) => (Some(Form::V6), &args[1], None),
                Some(af) => {
                    return Err(self.err(format!(
                        "inet_ntop( ) address family {} is not supported: \
                         use AF_INET ({AF_INET}) or AF_INET6 ({AF_INET6})",
                        af as i64
                    )))
                }
                None => (None, &args[1], Some(&args[0])),
            },
        };
        let af = match af {
            Some(e) => Some(self.int_arg(e)?),
            None => None,
        };
        self.expr(addr)?;
        let a = self.spill(R0)?;
        let w = self.work_area(AREA)? as i16;
        let dest = self.str_temp()?;
        self.asm.storei(Size::DW, R9, w + END, TEXT_END - 1);
        let copy = self.asm.label();
        let out = self.asm.label();
        match (form, af) {
            (Some(f), _) => {
                self.read_address(w, a, if f == Form::V4 { 4 } else { 16 });
                self.inet_text(w, f, copy)?;
            }
            (None, Some(slot)) => {
                // A run-time family: both forms; any other family gives "".
                let v6 = self.asm.label();
                self.asm.load(Size::DW, R1, FP, slot);
                self.asm.jmp_imm(Cond::Eq, R1, AF_INET6 as i32, v6);
                self.asm.jmp_imm(Cond::Ne, R1, AF_INET as i32, out);
                self.read_address(w, a, 4);
                self.inet_text(w, Form::V4, copy)?;
                self.asm.ja(copy);
                self.asm.bind(v6);
                self.read_address(w, a, 16);
                self.inet_text(w, Form::V6, copy)?;
            }
            (None, None) => return Err(self.err("inet_ntop( ) needs an address family")),
        }
        self.free_slots(1 + af.is_some() as usize);
        self.asm.bind(copy);
        self.asm.load(Size::DW, R1, R9, w + END);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.movi(R2, self.lay.strsize as i32);
        self.scratch_ptr(R8, (w + BUF) as u32);
        self.scratch_ptr(R7, dest);
        self.copy_range_from(TEXT_END + 1);
        self.asm.bind(out);
        self.scratch_ptr(R0, dest);
        Ok(())
    }

    /// r0 = the text of an address whose family is in stack slot `fam` and
    /// whose bytes are at the kernel address in slot `a4` (AF_INET) or
    /// `a6` (AF_INET6); "" for another family. The slots stay the caller's.
    pub(super) fn inet_by_family(&mut self, fam: i16, a4: i16, a6: i16) -> R<()> {
        let w = self.work_area(AREA)? as i16;
        let dest = self.str_temp()?;
        self.asm.storei(Size::DW, R9, w + END, TEXT_END - 1);
        let copy = self.asm.label();
        let out = self.asm.label();
        let v6 = self.asm.label();
        self.asm.load(Size::DW, R1, FP, fam);
        self.asm.jmp_imm(Cond::Eq, R1, AF_INET6 as i32, v6);
        self.asm.jmp_imm(Cond::Ne, R1, AF_INET as i32, out);
        self.read_address(w, a4, 4);
        self.inet_text(w, Form::V4, copy)?;
        self.asm.ja(copy);
        self.asm.bind(v6);
        self.read_address(w, a6, 16);
        self.inet_text(w, Form::V6, copy)?;
        self.asm.bind(copy);
        self.asm.load(Size::DW, R1, R9, w + END);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.movi(R2, self.lay.strsize as i32);
        self.scratch_ptr(R8, (w + BUF) as u32);
        self.scratch_ptr(R7, dest);
        self.copy_range_from(TEXT_END + 1);
        self.asm.bind(out);
        self.scratch_ptr(R0, dest);
        Ok(())
    }

    /// Write the text of the address at `w + IP` into the buffer; ends by
    /// falling through or jumping to `done`.
    fn inet_text(&mut self, w: i16, form: Form, done: crate::codegen::asm::Label) -> R<()> {
        if form == Form::V4 {
            self.dotted_quad(w, IP);
            return Ok(());
        }
        // Pick the zero run to compress: dtrace.c's scan, unrolled.
        self.asm.storei(Size::DW, R9, w + FIRSTZERO, -1);
        self.asm.storei(Size::DW, R9, w + TRYZERO, -1);
        self.asm.storei(Size::DW, R9, w + NUMZERO, 1);
        // r5 = -1 for the comparisons: jumps compare with immediates
        // sign-extended in the kernel but zero-extended in rbpf.
        self.asm.movi(R5, -1);
        for i in 0..16i32 {
            let next = self.asm.label();
            self.asm.load(Size::B, R3, R9, w + IP + i as i16);
            self.asm.load(Size::DW, R1, R9, w + TRYZERO);
            if i % 2 == 0 {
                // A zero byte at a group start may begin a run.
                let not_start = self.asm.label();
                self.asm.jmp_imm(Cond::Ne, R3, 0, not_start);
                self.asm.jmp_reg(Cond::Ne, R1, R5, not_start);
                self.asm.storei(Size::DW, R9, w + TRYZERO, i);
                self.asm.ja(next);
                self.asm.bind(not_start);
            }
            // A run ends at a non-zero byte, or at the last byte.
            self.asm.jmp_reg(Cond::Eq, R1, R5, next);
            if i != 15 {
                self.asm.jmp_imm(Cond::Eq, R3, 0, next);
            }
            let longer = self.asm.label();
            self.asm.movi(R2, i);
            self.asm.alu(Alu::Sub, R2, R1);
            self.asm.load(Size::DW, R4, R9, w + NUMZERO);
            self.asm.jmp_reg(Cond::Sgt, R2, R4, longer);
            self.asm.storei(Size::DW, R9, w + TRYZERO, -1);
            self.asm.ja(next);
            self.asm.bind(longer);
            self.asm.store(Size::DW, R9, w + FIRSTZERO, R1);
            self.asm.movi(R2, i - i % 2);
            self.asm.alu(Alu::Sub, R2, R1);
            if i == 15 {
                let nonzero = self.asm.label();
                self.asm.jmp_imm(Cond::Ne, R3, 0, nonzero);
                self.asm.alui(Alu::Add, R2, 2);
                self.asm.bind(nonzero);
            }
            self.asm.store(Size::DW, R9, w + NUMZERO, R2);
            self.asm.storei(Size::DW, R9, w + TRYZERO, -1);
            self.asm.bind(next);
        }
        // IPv4-mapped (::ffff:a.b.c.d) or -compatible (::a.b.c.d, not
        // :: or ::1): the tail in dotted decimal, then groups up to 10.
        let plain = self.asm.label();
        let tail = self.asm.label();
        let groups = self.asm.label();
        self.asm.storei(Size::DW, R9, w + V6END, 14);
        self.asm.load(Size::DW, R1, R9, w + IP);
        self.asm.jmp_imm(Cond::Ne, R1, 0, plain);
        self.asm.load(Size::W, R1, R9, w + IP + 8);
        self.asm.load(Size::W, R2, R9, w + IP + 12);
        // 0xffff0000 as a 64-bit value (an immediate would be sign-extended).
        self.asm.movi(R3, 0xffff);
        self.asm.alui(Alu::Lsh, R3, 16);
        self.asm.jmp_reg(Cond::Eq, R1, R3, tail);
        self.asm.jmp_imm(Cond::Ne, R1, 0, plain);
        self.asm.jmp_imm(Cond::Eq, R2, 0, plain);
        self.asm.jmp_imm(Cond::Eq, R2, 0x0100_0000, plain);
        self.asm.bind(tail);
        self.dotted_quad(w, IP + 12);
        if form == Form::V6Tail {
            self.asm.ja(done);
        } else {
            self.asm.storei(Size::DW, R9, w + V6END, 10);
        }
        self.asm.bind(plain);
        // The run is compressed only if the loop reaches its last group.
        let inactive = self.asm.label();
        self.asm.load(Size::DW, R1, R9, w + FIRSTZERO);
        self.asm.load(Size::DW, R2, R9, w + NUMZERO);
        self.asm.alu(Alu::Add, R2, R1);
        self.asm.alui(Alu::Sub, R2, 2);
        self.asm.jmp_imm(Cond::Slt, R1, 0, inactive);
        self.asm.load(Size::DW, R3, R9, w + V6END);
        self.asm.jmp_reg(Cond::Sgt, R2, R3, inactive);
        self.asm.store(Size::DW, R9, w + RUN_TOP, R2);
        self.asm.ja(groups);
        self.asm.bind(inactive);
        self.asm.storei(Size::DW, R9, w + RUN_TOP, -100);
        self.asm.bind(groups);
        for i in (0..=14i32).rev().step_by(2) {
            let skip = self.asm.label();
            if i > 10 {
                self.asm.load(Size::DW, R1, R9, w + V6END);
                self.asm.jmp_imm(Cond::Slt, R1, i, skip);
            }
            // The run's last group prints "::"; the rest of it nothing.
            let not_top = self.asm.label();
            self.asm.load(Size::DW, R1, R9, w + RUN_TOP);
            self.asm.jmp_imm(Cond::Ne, R1, i, not_top);
            self.put_right(w, None, Some(b':'));
            self.put_right(w, None, Some(b':'));
            self.asm.ja(skip);
            self.asm.bind(not_top);
            let outside = self.asm.label();
            self.asm.jmp_imm(Cond::Sle, R1, i, outside);
            self.asm.load(Size::DW, R1, R9, w + FIRSTZERO);
            self.asm.jmp_imm(Cond::Sle, R1, i, skip);
            self.asm.bind(outside);
            if i < 14 {
                let no_colon = self.asm.label();
                self.asm.load(Size::DW, R1, R9, w + FIRSTZERO);
                self.asm.jmp_imm(Cond::Eq, R1, i + 2, no_colon);
                self.put_right(w, None, Some(b':'));
                self.asm.bind(no_colon);
            }
            // The group in lower-case hex, no leading zeros ("0" for 0).
            self.asm.load(Size::B, R3, R9, w + IP + i as i16);
            self.asm.alui(Alu::Lsh, R3, 8);
            self.asm.load(Size::B, R1, R9, w + IP + i as i16 + 1);
            self.asm.alu(Alu::Or, R3, R1);
            let zero = self.asm.label();
            self.asm.jmp_imm(Cond::Eq, R3, 0, zero);
            for _ in 0..4 {
                self.asm.jmp_imm(Cond::Eq, R3, 0, skip);
                let letter = self.asm.label();
                let put = self.asm.label();
                self.asm.mov(R1, R3);
                self.asm.alui(Alu::And, R1, 15);
                self.asm.jmp_imm(Cond::Gt, R1, 9, letter);
                self.asm.alui(Alu::Add, R1, b'0' as i32);
                self.asm.ja(put);
                self.asm.bind(letter);
                self.asm.alui(Alu::Add, R1, b'a' as i32 - 10);
                self.asm.bind(put);
                self.put_right(w, Some(R1), None);
                self.asm.alui(Alu::Rsh, R3, 4);
            }
            self.asm.ja(skip);
            self.asm.bind(zero);
            self.put_right(w, None, Some(b'0'));
            self.asm.bind(skip);
        }
        Ok(())
    }

    /// Read `n` address bytes from the pointer in stack slot `a` (only
    /// what the family needs: more could fault at the end of a page).
    /// A fault leaves zeroes.
    fn read_address(&mut self, w: i16, a: i16, n: i32) {
        self.asm.load(Size::DW, R3, FP, a);
        self.scratch_ptr(R1, w as u32);
        self.asm.movi(R2, n);
        self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
    }

    /// Four bytes at `w + at` in dotted decimal, written right to left.
    fn dotted_quad(&mut self, w: i16, at: i16) {
        for i in (0..4i16).rev() {
            let done = self.asm.label();
            self.asm.load(Size::B, R3, R9, w + at + i);
            for k in 0..3 {
                if k > 0 {
                    self.asm.jmp_imm(Cond::Eq, R3, 0, done);
                }
                self.asm.mov(R1, R3);
                self.asm.alui(Alu::Mod, R1, 10);
                self.asm.alui(Alu::Add, R1, b'0' as i32);
                self.put_right(w, Some(R1), None);
                self.asm.alui(Alu::Div, R3, 10);
            }
            self.asm.bind(done);
            if i > 0 {
                self.put_right(w, None, Some(b'.'));
            }
        }
    }

    /// buf[end--] = the byte in `reg`, or `byte`. Clobbers r4, r5.
    fn put_right(&mut self, w: i16, reg: Option<u8>, byte: Option<u8>) {
        let skip = self.asm.label();
        self.asm.load(Size::DW, R4, R9, w + END);
        self.asm.jmp_imm(Cond::Ge, R4, TEXT_END, skip);
        self.asm.mov(R5, R9);
        self.asm.alu(Alu::Add, R5, R4);
        match (reg, byte) {
            (Some(r), _) => self.asm.store(Size::B, R5, w + BUF, r),
            (None, b) => self.asm.storei(Size::B, R5, w + BUF, b.unwrap_or(0) as i32),
        }
        self.asm.alui(Alu::Sub, R4, 1);
        self.asm.store(Size::DW, R9, w + END, R4);
        self.asm.bind(skip);
    }
}
