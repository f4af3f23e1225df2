//! String subroutines: bounded byte loops over zero-padded `strsize`
//! buffers, with the semantics of illumos `dtrace_dif_subr()`. Dispatch is
//! here, with the searches and copies; conversions to and from numbers are
//! in `strconv`, path functions in `paths`.
//!
//! Every loop is a plain counted loop (no `bpf_loop`), bounded by
//! `strsize`, so the same bytecode runs in an interpreter.
//!
//! Keeping the verifier's work linear. The verifier walks a loop one
//! iteration at a time, so a value a loop leaves behind (a length, a
//! position) is a different constant on each exit path, and whatever
//! follows would be checked once per exit: two loops in a row cost
//! `strsize²`. Such values are *laundered* (stored to scratch and loaded
//! back; the verifier does not follow values through map memory) or kept
//! in scratch words throughout, and bounds-checked again where they index
//! a buffer. Loop counters start from constants, never from another
//! register, so that no two registers are linked. Each loop's exits are
//! made fall-throughs by the assembler ([`crate::codegen::asm`]), so the
//! verifier does not stack a pending state per iteration.
//!
//! NULL strings: where DTrace's strchr( ), strrchr( ), strstr( ) and
//! strtok( ) return NULL, these return the empty string. D compares a
//! NULL string equal to "" (`dtrace_strncmp` reads NULL as empty), so only
//! printing differs: DTrace reports an invalid-address fault there.

use super::is_stringish;
use super::{Lower, R};
use crate::codegen::asm::Asm;
use crate::codegen::insn::{reg::*, Alu, Cond, Insn, Size};
use crate::ir::Expr;
use crate::types::Type;

/// Short forms of the instructions these loops are made of.
pub(super) trait Emit {
    fn mov(&mut self, d: u8, s: u8);
    fn movi(&mut self, d: u8, v: i32);
    fn alu(&mut self, op: Alu, d: u8, s: u8);
    fn alui(&mut self, op: Alu, d: u8, v: i32);
    fn load(&mut self, sz: Size, d: u8, base: u8, off: i16);
    fn store(&mut self, sz: Size, base: u8, off: i16, s: u8);
    fn storei(&mut self, sz: Size, base: u8, off: i16, v: i32);
}

impl Emit for Asm {
    fn mov(&mut self, d: u8, s: u8) {
        self.push(Insn::mov64_reg(d, s));
    }
    fn movi(&mut self, d: u8, v: i32) {
        self.push(Insn::mov64_imm(d, v));
    }
    fn alu(&mut self, op: Alu, d: u8, s: u8) {
        self.push(Insn::alu64_reg(op, d, s));
    }
    fn alui(&mut self, op: Alu, d: u8, v: i32) {
        self.push(Insn::alu64_imm(op, d, v));
    }
    fn load(&mut self, sz: Size, d: u8, base: u8, off: i16) {
        self.push(Insn::ldx(sz, d, base, off));
    }
    fn store(&mut self, sz: Size, base: u8, off: i16, s: u8) {
        self.push(Insn::stx(sz, base, off, s));
    }
    fn storei(&mut self, sz: Size, base: u8, off: i16, v: i32) {
        self.push(Insn::st(sz, base, off, v));
    }
}

/// Whether `name` is lowered by [`Lower::string_subr`].
pub(super) fn is_string_subr(name: &str) -> bool {
    matches!(
        name,
        "strlen"
            | "strjoin"
            | "toupper"
            | "tolower"
            | "substr"
            | "index"
            | "rindex"
            | "strstr"
            | "strchr"
            | "strrchr"
            | "strtok"
            | "lltostr"
            | "strtoll"
            | "basename"
            | "dirname"
            | "cleanpath"
    )
}

/// Which way a substring search goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Search {
    Index,
    Rindex,
    Strstr,
}

impl Lower<'_> {
    /// Lower a string subroutine; the result (an integer, or a pointer to
    /// a new string temporary) is left in r0.
    pub(super) fn string_subr(&mut self, name: &str, args: &[Expr]) -> R<()> {
        match name {
            "strlen" => {
                self.expr(&args[0])?;
                self.convert(&args[0].ty, &Type::String)?;
                self.asm.mov(R1, R0);
                self.strlen(R0, R1, R2);
                Ok(())
            }
            "strjoin" => self.strjoin(args),
            "toupper" => self.change_case(&args[0], b'a', b'z'),
            "tolower" => self.change_case(&args[0], b'A', b'Z'),
            "substr" => self.substr(args),
            "index" => self.search(args, Search::Index),
            "rindex" => self.search(args, Search::Rindex),
            "strstr" => self.search(args, Search::Strstr),
            "strchr" => self.strchr(args, false),
            "strrchr" => self.strchr(args, true),
            "strtok" => self.strtok(args),
            "lltostr" => self.lltostr(args),
            "strtoll" => self.strtoll(args),
            "basename" => self.basename(&args[0], false),
            "dirname" => self.basename(&args[0], true),
            "cleanpath" => self.cleanpath(&args[0]),
            other => Err(self.err(format!(
                "{other}( ) is not supported by code generation yet"
            ))),
        }
    }

    pub(super) fn strsize(&self) -> i32 {
        self.lay.strsize as i32
    }

    /// Evaluate a string argument and spill the pointer; returns its slot.
    pub(super) fn str_arg(&mut self, e: &Expr) -> R<i16> {
        self.expr(e)?;
        self.convert(&e.ty, &Type::String)?;
        self.spill(R0)
    }

    /// Evaluate an integer argument and spill it; returns its slot.
    pub(super) fn int_arg(&mut self, e: &Expr) -> R<i16> {
        self.expr(e)?;
        self.spill(R0)
    }

    /// Release the `n` most recent spill slots (their values were read).
    pub(super) fn free_slots(&mut self, n: usize) {
        self.stack -= 8 * n as i32;
    }

    /// Scratch offset of the launder word: the record header's EPID/CPU
    /// word, which is written only when the record is sent, after every
    /// expression of the clause.
    pub(super) fn word(&self) -> i16 {
        self.lay.record_off as i16
    }

    /// Make the verifier forget what it knows of `r` (see the module doc).
    pub(super) fn launder(&mut self, r: u8) {
        let w = self.word();
        self.asm.store(Size::DW, R9, w, r);
        self.asm.load(Size::DW, r, R9, w);
    }

    /// Scratch words for a loop's state: consecutive zeroed string
    /// temporaries holding at least `bytes` bytes; returns the offset.
    pub(super) fn work_area(&mut self, bytes: u32) -> R<u32> {
        let first = self.str_temp()?;
        let mut have = self.lay.strsize;
        while have < bytes {
            self.str_temp()?;
            have += self.lay.strsize;
        }
        Ok(first)
    }

    /// `dst = strlen(src)`, at most strsize, laundered. Clobbers `tmp`.
    pub(super) fn strlen(&mut self, dst: u8, src: u8, tmp: u8) {
        let top = self.asm.label();
        let end = self.asm.label();
        self.asm.movi(dst, 0);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, dst, self.strsize(), end);
        self.asm.mov(tmp, src);
        self.asm.alu(Alu::Add, tmp, dst);
        self.asm.load(Size::B, tmp, tmp, 0);
        self.asm.jmp_imm(Cond::Eq, tmp, 0, end);
        self.asm.alui(Alu::Add, dst, 1);
        self.asm.ja(top);
        self.asm.bind(end);
        self.launder(dst);
    }

    /// Append the string at `src` to the buffer at r7 from index r3,
    /// stopping at its NUL or at strsize − 1 bytes in all, optionally
    /// flipping the case of bytes in `flip` (toupper/tolower). Leaves r3
    /// at the new end, laundered. Clobbers r0, r4, r5.
    pub(super) fn copy_loop(&mut self, src: u8, flip: Option<(u8, u8)>) {
        let top = self.asm.label();
        let done = self.asm.label();
        let limit = self.strsize() - 1;
        self.asm.movi(R0, 0); // source index
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R3, limit, done);
        self.asm.jmp_imm(Cond::Ge, R0, limit, done);
        self.asm.mov(R4, src);
        self.asm.alu(Alu::Add, R4, R0);
        self.asm.load(Size::B, R4, R4, 0);
        self.asm.jmp_imm(Cond::Eq, R4, 0, done);
        if let Some((lo, hi)) = flip {
            let keep = self.asm.label();
            self.asm.jmp_imm(Cond::Lt, R4, lo as i32, keep);
            self.asm.jmp_imm(Cond::Gt, R4, hi as i32, keep);
            self.asm.alui(Alu::Xor, R4, 0x20);
            self.asm.bind(keep);
        }
        self.asm.mov(R5, R7);
        self.asm.alu(Alu::Add, R5, R3);
        self.asm.store(Size::B, R5, 0, R4);
        self.asm.alui(Alu::Add, R3, 1);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(top);
        self.asm.bind(done);
        self.launder(R3);
    }

    /// Copy at most `count` (r2, signed) bytes of the string at r8 from
    /// index `start` (r1) to the zeroed buffer at r7, stopping at a NUL or
    /// strsize − 1 bytes. Both are laundered first. Clobbers r0, r3–r5.
    pub(super) fn copy_range(&mut self) {
        self.copy_range_from(self.strsize());
    }

    /// [`Self::copy_range`] from a source buffer of `src_len` bytes.
    pub(super) fn copy_range_from(&mut self, src_len: i32) {
        let top = self.asm.label();
        let done = self.asm.label();
        let s = self.strsize();
        self.launder(R1);
        self.launder(R2);
        self.asm.movi(R0, 0); // destination index
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R0, s - 1, done);
        self.asm.jmp_reg(Cond::Sge, R0, R2, done);
        self.asm.mov(R3, R0);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.jmp_imm(Cond::Ge, R3, src_len, done);
        self.asm.mov(R4, R8);
        self.asm.alu(Alu::Add, R4, R3);
        self.asm.load(Size::B, R4, R4, 0);
        self.asm.jmp_imm(Cond::Eq, R4, 0, done);
        self.asm.mov(R5, R7);
        self.asm.alu(Alu::Add, R5, R0);
        self.asm.store(Size::B, R5, 0, R4);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(top);
        self.asm.bind(done);
    }

    /// `strjoin(a, b)`: a then b, truncated to strsize − 1 bytes.
    fn strjoin(&mut self, args: &[Expr]) -> R<()> {
        let a = self.str_arg(&args[0])?;
        self.expr(&args[1])?;
        self.convert(&args[1].ty, &Type::String)?;
        self.asm.mov(R2, R0);
        self.unspill(R1, a);
        let t = self.str_temp()?;
        // r1 and r2 survive copy_loop (it clobbers r0, r4, r5 only).
        self.scratch_ptr(R7, t);
        self.asm.movi(R3, 0);
        self.copy_loop(R1, None);
        self.copy_loop(R2, None);
        self.asm.mov(R0, R7);
        Ok(())
    }

    /// toupper( ) and tolower( ): flip the case of bytes in `lo..=hi`.
    fn change_case(&mut self, arg: &Expr, lo: u8, hi: u8) -> R<()> {
        self.expr(arg)?;
        self.convert(&arg.ty, &Type::String)?;
        self.asm.mov(R1, R0);
        let t = self.str_temp()?;
        self.scratch_ptr(R7, t);
        self.asm.movi(R3, 0);
        self.copy_loop(R1, Some((lo, hi)));
        self.asm.mov(R0, R7);
        Ok(())
    }

    /// `substr(s, index [, length])`. A negative index counts from the
    /// end; a negative length leaves that many bytes off the end.
    fn substr(&mut self, args: &[Expr]) -> R<()> {
        let s = self.str_arg(&args[0])?;
        let idx = self.int_arg(&args[1])?;
        let len = match args.get(2) {
            Some(e) => Some(self.int_arg(e)?),
            None => None,
        };
        let size = self.strsize();
        self.asm.load(Size::DW, R8, FP, s);
        self.asm.load(Size::DW, R1, FP, idx);
        match len {
            Some(l) => self.asm.load(Size::DW, R2, FP, l),
            None => self.asm.movi(R2, size),
        }
        self.free_slots(2 + len.is_some() as usize);
        let t = self.str_temp()?;
        self.scratch_ptr(R7, t);
        // r3 = strlen(s); r1 = index; r2 = remaining (dtrace.c's names).
        self.strlen(R3, R8, R4);
        let adjusted = self.asm.label();
        let zero = self.asm.label();
        let negative = self.asm.label();
        let clamp = self.asm.label();
        let copy = self.asm.label();
        // if (index < 0) { index += len;
        //     if (index < 0 && index + remaining > 0) { remaining += index; index = 0; } }
        self.asm.jmp_imm(Cond::Sge, R1, 0, adjusted);
        self.asm.alu(Alu::Add, R1, R3);
        self.asm.jmp_imm(Cond::Sge, R1, 0, adjusted);
        self.asm.mov(R4, R1);
        self.asm.alu(Alu::Add, R4, R2);
        self.asm.jmp_imm(Cond::Sle, R4, 0, adjusted);
        self.asm.alu(Alu::Add, R2, R1);
        self.asm.movi(R1, 0);
        self.asm.bind(adjusted);
        // if (index >= len || index < 0) remaining = 0 (one unsigned test)
        self.asm.jmp_reg(Cond::Ge, R1, R3, zero);
        // else if (remaining < 0) remaining += len - index
        self.asm.jmp_imm(Cond::Slt, R2, 0, negative);
        // else if (index + remaining > size) remaining = size - index
        self.asm.mov(R4, R1);
        self.asm.alu(Alu::Add, R4, R2);
        self.asm.jmp_imm(Cond::Gt, R4, size, clamp);
        self.asm.ja(copy);
        self.asm.bind(negative);
        self.asm.alu(Alu::Add, R2, R3);
        self.asm.alu(Alu::Sub, R2, R1);
        self.asm.ja(copy);
        self.asm.bind(clamp);
        self.asm.movi(R2, size);
        self.asm.alu(Alu::Sub, R2, R1);
        self.asm.ja(copy);
        self.asm.bind(zero);
        self.asm.movi(R2, 0);
        self.asm.bind(copy);
        self.copy_range();
        self.asm.mov(R0, R7);
        Ok(())
    }

    /// `strchr(s, c)` / `strrchr(s, c)`: the suffix of s from the first
    /// (last) c, or NULL (""). c may be '\0', which finds the end.
    fn strchr(&mut self, args: &[Expr], last: bool) -> R<()> {
        let s = self.str_arg(&args[0])?;
        self.expr(&args[1])?;
        self.asm.mov(R2, R0);
        self.asm.alui(Alu::And, R2, 0xff);
        self.unspill(R8, s);
        let found = self.word();
        self.asm.storei(Size::DW, R9, found, -1);
        let top = self.asm.label();
        let skip = self.asm.label();
        let end = self.asm.label();
        self.asm.movi(R0, 0);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R0, self.strsize(), end);
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R0);
        self.asm.load(Size::B, R3, R3, 0);
        self.asm.jmp_reg(Cond::Ne, R3, R2, skip);
        self.asm.store(Size::DW, R9, found, R0);
        if !last {
            self.asm.ja(end);
        }
        self.asm.bind(skip);
        self.asm.jmp_imm(Cond::Eq, R3, 0, end);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(top);
        self.asm.bind(end);
        self.asm.load(Size::DW, R1, R9, found);
        let t = self.str_temp()?;
        self.scratch_ptr(R7, t);
        let none = self.asm.label();
        self.asm.jmp_imm(Cond::Slt, R1, 0, none);
        self.asm.movi(R2, self.strsize());
        self.copy_range();
        self.asm.bind(none);
        self.asm.mov(R0, R7);
        Ok(())
    }

    /// index( ), rindex( ) and strstr( ): dtrace.c's brute-force search,
    /// position semantics included (they follow Perl's, quirks and all).
    ///
    /// The candidate position is a counter running over every index (up or
    /// down) and skipping those outside the search; at each, the needle is
    /// compared eight bytes at a time, the last word masked. The verifier
    /// so walks about strsize²/16 comparisons rather than strsize². Both
    /// strings are first copied to temporaries, whose eight-byte loads may
    /// run past strsize into the next scratch bytes: those can only be
    /// reached after the haystack's final NUL, which already mismatches.
    fn search(&mut self, args: &[Expr], kind: Search) -> R<()> {
        let size = self.strsize();
        let s = self.str_arg(&args[0])?;
        let t = self.str_arg(&args[1])?;
        let pos = match args.get(2) {
            Some(e) if kind != Search::Strstr => Some(self.int_arg(e)?),
            _ => None,
        };
        // Working words: length, needle length, start, result.
        let w = self.work_area(32)? as i16;
        let (w_len, w_sub, w_start, w_res) = (w, w + 8, w + 16, w + 24);
        let hay = self.str_temp()?;
        let needle = self.str_temp()?;
        for (slot, buf, word) in [(s, hay, w_len), (t, needle, w_sub)] {
            self.asm.load(Size::DW, R1, FP, slot);
            self.scratch_ptr(R7, buf);
            self.asm.movi(R3, 0);
            self.copy_loop(R1, None);
            self.asm.store(Size::DW, R9, word, R3);
        }
        if let Some(p) = pos {
            self.asm.load(Size::DW, R3, FP, p);
        }
        self.free_slots(2 + pos.is_some() as usize);

        let end = self.asm.label();
        let go = self.asm.label();
        self.asm.load(Size::DW, R1, R9, w_len);
        self.asm.load(Size::DW, R2, R9, w_sub);
        // Both empty: index 0 (whatever the position), strstr the string.
        self.asm.storei(Size::DW, R9, w_res, 0);
        self.asm.jmp_imm(Cond::Ne, R1, 0, go);
        self.asm.jmp_imm(Cond::Eq, R2, 0, end);
        self.asm.bind(go);
        self.asm.storei(Size::DW, R9, w_res, -1);
        // start: index from 0, rindex from the end.
        if kind == Search::Rindex {
            self.asm.store(Size::DW, R9, w_start, R1);
        } else {
            self.asm.storei(Size::DW, R9, w_start, 0);
        }
        if pos.is_some() {
            let set = self.asm.label();
            let empty = self.asm.label();
            if kind == Search::Rindex {
                // pos < 0: not found, or 0 for ""; pos > len: len.
                let ok = self.asm.label();
                self.asm.jmp_imm(Cond::Sge, R3, 0, ok);
                self.asm.jmp_imm(Cond::Ne, R2, 0, end);
                self.asm.storei(Size::DW, R9, w_res, 0);
                self.asm.ja(end);
                self.asm.bind(ok);
                self.asm.jmp_reg(Cond::Le, R3, R1, set);
                self.asm.mov(R3, R1);
            } else {
                // pos < 0: 0; pos >= len: not found, or len for "".
                let ok = self.asm.label();
                self.asm.jmp_imm(Cond::Sge, R3, 0, ok);
                self.asm.movi(R3, 0);
                self.asm.bind(ok);
                self.asm.jmp_reg(Cond::Lt, R3, R1, set);
                self.asm.jmp_imm(Cond::Eq, R2, 0, empty);
                self.asm.ja(end);
                self.asm.bind(empty);
                self.asm.store(Size::DW, R9, w_res, R1);
                self.asm.ja(end);
            }
            self.asm.bind(set);
            self.asm.store(Size::DW, R9, w_start, R3);
        }

        // r0 = candidate, r1 = needle offset, r7/r8 = haystack/needle.
        let outer = self.asm.label();
        let inner = self.asm.label();
        let next = self.asm.label();
        self.scratch_ptr(R7, hay);
        self.scratch_ptr(R8, needle);
        if kind == Search::Rindex {
            self.asm.movi(R0, size - 1);
            self.asm.bind(outer);
            self.asm.jmp_imm(Cond::Slt, R0, 0, end);
            self.asm.load(Size::DW, R1, R9, w_start);
            self.asm.jmp_reg(Cond::Sgt, R0, R1, next);
        } else {
            self.asm.movi(R0, 0);
            self.asm.bind(outer);
            self.asm.jmp_imm(Cond::Ge, R0, size - 1, end);
            self.asm.load(Size::DW, R1, R9, w_len);
            self.asm.jmp_reg(Cond::Ge, R0, R1, end);
            self.asm.load(Size::DW, R1, R9, w_start);
            self.asm.jmp_reg(Cond::Lt, R0, R1, next);
        }
        self.asm.movi(R1, 0);
        // Conditional jumps below lead on through the loops and fall
        // through out of them: the verifier checks a fall-through first
        // and queues the target, so this keeps its queue short (it allows
        // 8192 entries).
        let more = self.asm.label();
        let same = self.asm.label();
        self.asm.bind(inner);
        self.asm.load(Size::DW, R2, R9, w_sub);
        self.asm.jmp_reg(Cond::Lt, R1, R2, more);
        self.asm.store(Size::DW, R9, w_res, R0);
        self.asm.ja(end);
        self.asm.bind(more);
        self.asm.mov(R3, R0);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.jmp_imm(Cond::Ge, R3, size, next);
        self.asm.mov(R4, R7);
        self.asm.alu(Alu::Add, R4, R3);
        self.asm.load(Size::DW, R4, R4, 0);
        self.asm.mov(R5, R8);
        self.asm.alu(Alu::Add, R5, R1);
        self.asm.load(Size::DW, R5, R5, 0);
        self.asm.alu(Alu::Xor, R4, R5);
        // Compare only the needle bytes left, up to 8 (little-endian: the
        // first bytes are the low ones): mask = !0 >> (64 - 8 × min(left,
        // 8)), computed without a branch that would double the paths.
        self.asm.alu(Alu::Sub, R2, R1);
        self.asm.alui(Alu::Sub, R2, 8);
        self.asm.mov(R3, R2);
        self.asm.alui(Alu::Arsh, R3, 63);
        self.asm.alu(Alu::And, R2, R3);
        self.asm.alui(Alu::Add, R2, 8);
        self.asm.alui(Alu::Lsh, R2, 3);
        self.asm.movi(R3, 64);
        self.asm.alu(Alu::Sub, R3, R2);
        self.asm.movi(R5, -1);
        self.asm.alu(Alu::Rsh, R5, R3);
        self.asm.alu(Alu::And, R4, R5);
        self.asm.jmp_imm(Cond::Eq, R4, 0, same);
        self.asm.ja(next);
        self.asm.bind(same);
        self.asm.alui(Alu::Add, R1, 8);
        self.asm.ja(inner);
        self.asm.bind(next);
        let step = if kind == Search::Rindex { -1 } else { 1 };
        self.asm.alui(Alu::Add, R0, step);
        self.asm.ja(outer);

        self.asm.bind(end);
        self.asm.load(Size::DW, R0, R9, w_res);
        if kind == Search::Strstr {
            let none = self.asm.label();
            self.asm.mov(R1, R0);
            let out = self.str_temp()?;
            self.scratch_ptr(R7, out);
            self.scratch_ptr(R8, hay);
            self.asm.jmp_imm(Cond::Slt, R1, 0, none);
            self.asm.movi(R2, size);
            self.copy_range();
            self.asm.bind(none);
            self.asm.mov(R0, R7);
        }
        Ok(())
    }

    /// `strtok(s, delims)` / `strtok(NULL, delims)`: the next token, or
    /// NULL (""). The string is copied into program-lifetime scratch, so
    /// later calls in the clause (and in the probe's later clauses) go on
    /// from where the last call stopped, as DTrace's saved pointer does.
    fn strtok(&mut self, args: &[Expr]) -> R<()> {
        let size = self.strsize();
        let null = !is_stringish(&args[0].ty);
        if null && args[0].as_const() != Some(0) {
            return Err(self.err("strtok( ) argument #1 must be a string or NULL (0)"));
        }
        let state = match self.strtok_state {
            Some(off) => off,
            None => {
                let off = self.reserve(self.lay.strsize + 8, "strtok( )")?;
                self.strtok_state = Some(off);
                off
            }
        };
        let pos = state as i16;
        let buf = state as i16 + 8;
        let s = if null {
            None
        } else {
            Some(self.str_arg(&args[0])?)
        };
        let d = self.str_arg(&args[1])?;
        let map = self.work_area(32)? as i16;
        let dest = self.str_temp()? as i16;
        if let Some(s) = s {
            self.zero_scratch(buf as u32, self.lay.strsize);
            self.asm.load(Size::DW, R1, FP, s);
            self.scratch_ptr(R7, buf as u32);
            self.asm.movi(R3, 0);
            self.copy_loop(R1, None);
            self.asm.storei(Size::DW, R9, pos, 0);
        }
        self.asm.load(Size::DW, R8, FP, d);
        self.free_slots(1 + s.is_some() as usize);

        // tokmap[c >> 3] |= 1 << (c & 7) for each delimiter c.
        let top = self.asm.label();
        let built = self.asm.label();
        self.asm.movi(R0, 0);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R0, size, built);
        self.asm.mov(R1, R8);
        self.asm.alu(Alu::Add, R1, R0);
        self.asm.load(Size::B, R1, R1, 0);
        self.asm.jmp_imm(Cond::Eq, R1, 0, built);
        self.asm.mov(R2, R1);
        self.asm.alui(Alu::Rsh, R2, 3);
        self.asm.alui(Alu::And, R1, 7);
        self.asm.movi(R4, 1);
        self.asm.alu(Alu::Lsh, R4, R1);
        self.asm.mov(R5, R9);
        self.asm.alu(Alu::Add, R5, R2);
        self.asm.load(Size::B, R3, R5, map);
        self.asm.alu(Alu::Or, R3, R4);
        self.asm.store(Size::B, R5, map, R3);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(top);
        self.asm.bind(built);

        // Skip delimiters from the saved position; the end means NULL.
        let skip = self.asm.label();
        let none = self.asm.label();
        let start = self.asm.label();
        let end = self.asm.label();
        self.asm.load(Size::DW, R1, R9, pos);
        self.asm.movi(R0, 0);
        self.asm.bind(skip);
        self.asm.jmp_imm(Cond::Ge, R0, size, none);
        self.asm.jmp_imm(Cond::Ge, R1, size, none);
        self.asm.mov(R2, R9);
        self.asm.alu(Alu::Add, R2, R1);
        self.asm.load(Size::B, R2, R2, buf);
        self.asm.jmp_imm(Cond::Eq, R2, 0, none);
        self.tokmap_bit(map);
        self.asm.jmp_imm(Cond::Eq, R3, 0, start);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(skip);
        self.asm.bind(none);
        // Park on the final NUL so that later calls return NULL too.
        self.asm.storei(Size::DW, R9, pos, size - 1);
        self.scratch_ptr(R0, dest as u32);
        self.asm.ja(end);

        // Copy the token; save the position of the byte that ended it.
        let copy = self.asm.label();
        let done = self.asm.label();
        self.asm.bind(start);
        self.launder(R1);
        self.asm.movi(R0, 0);
        self.asm.bind(copy);
        self.asm.jmp_imm(Cond::Ge, R0, size - 1, done);
        self.asm.jmp_imm(Cond::Ge, R1, size, done);
        self.asm.mov(R2, R9);
        self.asm.alu(Alu::Add, R2, R1);
        self.asm.load(Size::B, R2, R2, buf);
        self.asm.jmp_imm(Cond::Eq, R2, 0, done);
        self.tokmap_bit(map);
        self.asm.jmp_imm(Cond::Ne, R3, 0, done);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R0);
        self.asm.store(Size::B, R4, dest, R2);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.ja(copy);
        self.asm.bind(done);
        self.asm.store(Size::DW, R9, pos, R1);
        self.scratch_ptr(R0, dest as u32);
        self.asm.bind(end);
        Ok(())
    }

    /// r3 = the tokmap bit of the byte in r2 (0 or 1). Clobbers r4.
    fn tokmap_bit(&mut self, map: i16) {
        self.asm.mov(R3, R2);
        self.asm.alui(Alu::Rsh, R3, 3);
        self.asm.alu(Alu::Add, R3, R9);
        self.asm.load(Size::B, R3, R3, map);
        self.asm.mov(R4, R2);
        self.asm.alui(Alu::And, R4, 7);
        self.asm.alu(Alu::Rsh, R3, R4);
        self.asm.alui(Alu::And, R3, 1);
    }
}
