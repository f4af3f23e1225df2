//! Path strings: basename( ), dirname( ) and cleanpath( ), as illumos
//! `dtrace_dif_subr()` computes them.

use super::strings::Emit;
use super::{Lower, R};
use crate::codegen::asm::Label;
use crate::codegen::insn::{reg::*, Alu, Cond, Size};
use crate::ir::Expr;

impl Lower<'_> {
    /// `basename(s)` / `dirname(s)`, as dtrace.c: "" gives ".", all
    /// slashes "/", trailing slashes are ignored, and the dirname of a
    /// name without a slash is ".".
    pub(super) fn basename(&mut self, arg: &Expr, dir: bool) -> R<()> {
        let size = self.strsize();
        let s = self.str_arg(arg)?;
        let w = self.work_area(24)? as i16;
        let (w_lastbase, w_firstbase, w_lastdir) = (w, w + 8, w + 16);
        let dest = self.str_temp()?;
        self.unspill(R8, s);
        self.scratch_ptr(R7, dest);
        let out = self.asm.label();
        let dot = self.asm.label();
        self.strlen(R1, R8, R2);
        let nonempty = self.asm.label();
        self.asm.jmp_imm(Cond::Ne, R1, 0, nonempty);
        self.asm.bind(dot);
        self.asm.storei(Size::B, R7, 0, b'.' as i32);
        self.asm.ja(out);
        self.asm.bind(nonempty);
        self.asm.alui(Alu::Sub, R1, 1);
        // Three scans back from the end: over slashes (to the basename's
        // last byte), over the basename, over slashes (to the dirname's).
        // Each leaves r1 at the stopping index, or -1.
        for (stop_at_slash, word) in [(false, w_lastbase), (true, w_firstbase), (false, w_lastdir)]
        {
            let top = self.asm.label();
            let stop = self.asm.label();
            self.asm.movi(R0, 0);
            self.asm.bind(top);
            self.asm.jmp_imm(Cond::Ge, R0, size, stop);
            self.asm.jmp_imm(Cond::Ge, R1, size, stop);
            self.asm.mov(R2, R8);
            self.asm.alu(Alu::Add, R2, R1);
            self.asm.load(Size::B, R2, R2, 0);
            let cond = if stop_at_slash { Cond::Eq } else { Cond::Ne };
            self.asm.jmp_imm(cond, R2, b'/' as i32, stop);
            self.asm.alui(Alu::Sub, R1, 1);
            self.asm.alui(Alu::Add, R0, 1);
            self.asm.ja(top);
            self.asm.bind(stop);
            self.launder(R1);
            if word == w_firstbase {
                // firstbase = i + 1 if a slash was found, else -1
                let none = self.asm.label();
                let set = self.asm.label();
                self.asm.mov(R2, R1);
                self.asm.jmp_imm(Cond::Slt, R2, 0, none);
                self.asm.alui(Alu::Add, R2, 1);
                self.asm.ja(set);
                self.asm.bind(none);
                self.asm.movi(R2, -1);
                self.asm.bind(set);
                self.asm.store(Size::DW, R9, word, R2);
            } else {
                self.asm.store(Size::DW, R9, word, R1);
            }
        }
        // Only slashes: "/".
        let has_base = self.asm.label();
        self.asm.load(Size::DW, R1, R9, w_lastbase);
        self.asm.jmp_imm(Cond::Sge, R1, 0, has_base);
        self.asm.storei(Size::B, R7, 0, b'/' as i32);
        self.asm.ja(out);
        self.asm.bind(has_base);
        self.asm.load(Size::DW, R2, R9, w_firstbase);
        if dir {
            // No slash: "."; else bytes 0 ..= lastdir (at least the "/").
            self.asm.jmp_imm(Cond::Slt, R2, 0, dot);
            let some = self.asm.label();
            self.asm.load(Size::DW, R2, R9, w_lastdir);
            self.asm.jmp_imm(Cond::Sge, R2, 0, some);
            self.asm.movi(R2, 0);
            self.asm.bind(some);
            self.asm.alui(Alu::Add, R2, 1);
            self.asm.movi(R1, 0);
        } else {
            // Bytes firstbase (0 without a slash) ..= lastbase.
            let some = self.asm.label();
            self.asm.jmp_imm(Cond::Sge, R2, 0, some);
            self.asm.movi(R2, 0);
            self.asm.bind(some);
            self.asm.alu(Alu::Sub, R1, R2);
            self.asm.alui(Alu::Add, R1, 1);
            self.asm.mov(R3, R1);
            self.asm.mov(R1, R2);
            self.asm.mov(R2, R3);
        }
        self.copy_range();
        self.asm.bind(out);
        self.asm.mov(R0, R7);
        Ok(())
    }

    /// `cleanpath(s)`: dtrace.c's one pass that drops "//", "/./" and
    /// backs up over "/../", quirks kept ("a/../b" is "/b", a trailing
    /// "/." stays, output stops when fewer than 5 bytes of room are left).
    ///
    /// dtrace.c reads up to four bytes per turn of its loop and backs up
    /// in a loop inside it; here the same steps are a state machine that
    /// reads one byte or backs up one byte per turn, its state in scratch
    /// words, so that the verifier walks each turn once: 2 × strsize + 8
    /// turns (a path of n bytes needs at most 2n + 2: a byte is read at
    /// most twice, and only bytes written can be backed over).
    pub(super) fn cleanpath(&mut self, arg: &Expr) -> R<()> {
        let size = self.strsize();
        let s = self.str_arg(arg)?;
        let w = self.work_area(32)? as i16;
        let dest = self.str_temp()? as i16;
        let finish = self.asm.label();
        let step = self.asm.label();
        let st = Clean {
            bail: finish,
            step,
            i: w,
            j: w + 8,
            c: w + 16,
            mode: w + 24,
            dest,
            size,
        };
        self.unspill(R8, s);
        let head = self.asm.label();
        let next = self.asm.label();
        let back = self.asm.label();
        let back_done = self.asm.label();
        let [s1, s2, s3] = [(); 3].map(|_| self.asm.label());
        self.asm.movi(R7, 0); // turns taken
        self.asm.bind(head);
        self.asm.jmp_imm(Cond::Ge, R7, 2 * size + 8, finish);
        self.asm.load(Size::DW, R1, R9, st.mode);
        self.asm.jmp_imm(Cond::Eq, R1, Clean::BACK, back);
        // c = src[i++]
        self.asm.load(Size::DW, R1, R9, st.i);
        self.guard(Cond::Lt, R1, size, finish);
        self.asm.mov(R3, R8);
        self.asm.alu(Alu::Add, R3, R1);
        self.asm.load(Size::B, R3, R3, 0);
        self.asm.alui(Alu::Add, R1, 1);
        self.asm.store(Size::DW, R9, st.i, R1);
        self.asm.store(Size::DW, R9, st.c, R3);
        self.asm.load(Size::DW, R1, R9, st.mode);
        self.asm.jmp_imm(Cond::Eq, R1, Clean::SLASH, s1);
        self.asm.jmp_imm(Cond::Eq, R1, Clean::SLASH_DOT, s2);
        self.asm.jmp_imm(Cond::Eq, R1, Clean::SLASH_DOT_DOT, s3);
        // next: if (j + 5 >= size) break; a '/' starts a component.
        self.asm.bind(next);
        self.asm.load(Size::DW, R2, R9, st.j);
        self.asm.jmp_imm(Cond::Ge, R2, size - 5, finish);
        self.clean_mode_if(&st, b'/', Clean::SLASH);
        self.clean_emit(&st, &[None]);
        // "/" then: another '/' goes back to next; '.' may be "/." …
        self.asm.bind(s1);
        self.asm.jmp_imm(Cond::Eq, R3, b'/' as i32, next);
        self.clean_mode_if(&st, b'.', Clean::SLASH_DOT);
        self.clean_emit(&st, &[Some(b'/'), None]);
        self.asm.bind(s2);
        self.asm.jmp_imm(Cond::Eq, R3, b'/' as i32, next);
        self.clean_mode_if(&st, b'.', Clean::SLASH_DOT_DOT);
        self.clean_emit(&st, &[Some(b'/'), Some(b'.'), None]);
        // "/.." then '/' or the end: un-read it and back up; else a name.
        let up = self.asm.label();
        self.asm.bind(s3);
        self.asm.jmp_imm(Cond::Eq, R3, b'/' as i32, up);
        self.asm.jmp_imm(Cond::Eq, R3, 0, up);
        self.clean_emit(&st, &[Some(b'/'), Some(b'.'), Some(b'.'), None]);
        self.asm.bind(up);
        self.asm.load(Size::DW, R1, R9, st.i);
        self.asm.alui(Alu::Sub, R1, 1);
        self.asm.store(Size::DW, R9, st.i, R1);
        self.asm.storei(Size::DW, R9, st.mode, Clean::BACK);
        self.asm.ja(step);
        // while (j != 0 && dest[--j] != '/');
        self.asm.bind(back);
        self.asm.load(Size::DW, R2, R9, st.j);
        self.asm.jmp_imm(Cond::Eq, R2, 0, back_done);
        self.asm.alui(Alu::Sub, R2, 1);
        self.asm.store(Size::DW, R9, st.j, R2);
        self.guard(Cond::Lt, R2, size, finish);
        self.asm.alu(Alu::Add, R2, R9);
        self.asm.load(Size::B, R2, R2, dest);
        self.asm.jmp_imm(Cond::Ne, R2, b'/' as i32, step);
        // if (c == '\0') dest[++j] = '/'; and the loop ends with c.
        self.asm.bind(back_done);
        self.asm.storei(Size::DW, R9, st.mode, Clean::NORMAL);
        self.asm.load(Size::DW, R3, R9, st.c);
        self.asm.jmp_imm(Cond::Ne, R3, 0, step);
        self.asm.load(Size::DW, R2, R9, st.j);
        self.asm.alui(Alu::Add, R2, 1);
        self.asm.store(Size::DW, R9, st.j, R2);
        self.guard(Cond::Lt, R2, size, finish);
        self.asm.alu(Alu::Add, R2, R9);
        self.asm.storei(Size::B, R2, dest, b'/' as i32);
        self.asm.ja(finish);
        self.asm.bind(step);
        self.asm.alui(Alu::Add, R7, 1);
        self.asm.ja(head);
        // dest[j] = '\0', and zero what backing up left behind it:
        // dest[k] &= (k < j ? !0 : 0), without a branch on j.
        self.asm.bind(finish);
        let top = self.asm.label();
        let end = self.asm.label();
        self.asm.load(Size::DW, R2, R9, st.j);
        self.asm.movi(R0, 0);
        self.asm.bind(top);
        self.asm.jmp_imm(Cond::Ge, R0, size, end);
        self.asm.mov(R3, R0);
        self.asm.alu(Alu::Sub, R3, R2);
        self.asm.alui(Alu::Arsh, R3, 63);
        self.asm.mov(R1, R9);
        self.asm.alu(Alu::Add, R1, R0);
        self.asm.load(Size::B, R4, R1, dest);
        self.asm.alu(Alu::And, R4, R3);
        self.asm.store(Size::B, R1, dest, R4);
        self.asm.alui(Alu::Add, R0, 1);
        self.asm.ja(top);
        self.asm.bind(end);
        self.scratch_ptr(R0, dest as u32);
        Ok(())
    }

    /// If the byte in r3 is `byte`, enter `mode` and end the turn.
    fn clean_mode_if(&mut self, st: &Clean, byte: u8, mode: i32) {
        let other = self.asm.label();
        self.asm.jmp_imm(Cond::Ne, R3, byte as i32, other);
        self.asm.storei(Size::DW, R9, st.mode, mode);
        self.asm.ja(st.step);
        self.asm.bind(other);
    }

    /// Go on if `r cond imm`, else jump to `bail`. The verifier checks the
    /// fall-through first and queues the jump target; with the bail-out on
    /// the fall-through its queue stays short (it allows 8192 entries).
    fn guard(&mut self, cond: Cond, r: u8, imm: i32, bail: Label) {
        let ok = self.asm.label();
        self.asm.jmp_imm(cond, r, imm, ok);
        self.asm.ja(bail);
        self.asm.bind(ok);
    }

    /// Append `bytes` (the byte in hand for `None`) at dest[j]; then, as
    /// dtrace.c's `continue`, stop if the byte in hand is NUL, else read
    /// the next byte in the normal state. (j + 4 < size holds; the bounds
    /// check only bails out, for the verifier.) Clobbers r2, r4, r5.
    fn clean_emit(&mut self, st: &Clean, bytes: &[Option<u8>]) {
        self.asm.load(Size::DW, R2, R9, st.j);
        self.guard(Cond::Lt, R2, st.size - 4, st.bail);
        self.asm.mov(R4, R9);
        self.asm.alu(Alu::Add, R4, R2);
        for (k, b) in bytes.iter().enumerate() {
            let at = st.dest + k as i16;
            match b {
                Some(b) => self.asm.storei(Size::B, R4, at, *b as i32),
                None => self.asm.store(Size::B, R4, at, R3),
            }
        }
        self.asm.alui(Alu::Add, R2, bytes.len() as i32);
        self.asm.store(Size::DW, R9, st.j, R2);
        self.asm.storei(Size::DW, R9, st.mode, Clean::NORMAL);
        self.asm.jmp_imm(Cond::Eq, R3, 0, st.bail);
        self.asm.ja(st.step);
    }
}

/// cleanpath( )'s state: scratch offsets of its words and buffers.
struct Clean {
    /// Source index.
    i: i16,
    /// Destination index.
    j: i16,
    /// The byte in hand.
    c: i16,
    /// What the byte read next means: one of the constants below.
    mode: i16,
    /// The result temporary.
    dest: i16,
    size: i32,
    /// Where to stop if an index is out of range (it never is).
    bail: Label,
    /// The end of a turn.
    step: Label,
}

impl Clean {
    /// Read a byte and handle it at dtrace.c's `next`.
    const NORMAL: i32 = 0;
    /// After a '/'.
    const SLASH: i32 = 1;
    /// After "/.".
    const SLASH_DOT: i32 = 2;
    /// After "/..".
    const SLASH_DOT_DOT: i32 = 3;
    /// Back up one byte towards a '/'.
    const BACK: i32 = 4;
}
