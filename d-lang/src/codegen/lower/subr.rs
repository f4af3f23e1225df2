//! Subroutines that produce values; string, memory and inet ones are sent to their own modules.
//!
//! Here: `copyinstr`, `rand`, byte order, `stack`/`ustack` (and the stack
//! capture that `stackdepth` and `caller` share), kernel locks,
//! `progenyof`, `speculation`, `getmajor`/`getminor`.

use super::{Lower, R};
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::ir::Expr;
use crate::types::Type;

impl Lower<'_> {
    /// Subroutines that produce values.
    pub(super) fn call(&mut self, name: &str, args: &[Expr], ty: &Type) -> R<()> {
        match name {
            "copyinstr" => {
                self.expr(&args[0])?;
                let t = self.str_temp()?;
                let len = if let Some(n) = args.get(1) {
                    match n.as_const() {
                        Some(c) => (c as u32).clamp(1, self.lay.strsize),
                        None => {
                            return Err(self.err("copyinstr( ) size must be a constant for now"))
                        }
                    }
                } else {
                    self.lay.strsize
                };
                self.asm.push(Insn::mov64_reg(R3, R0));
                self.scratch_ptr(R1, t);
                self.asm.push(Insn::mov64_imm(R2, len as i32));
                // An address the process has not mapped, or a page not
                // yet resident, faults as in DTrace.
                self.fault_addr(R3);
                self.checked_read(helper::PROBE_READ_USER_STR);
                self.scratch_ptr(R0, t);
                Ok(())
            }
            "uregs" => self.user_register(&args[0]),
            "rand" => {
                self.asm.push(Insn::call(helper::GET_PRANDOM_U32));
                self.normalize(R0, ty);
                Ok(())
            }
            "htons" | "ntohs" | "htonl" | "ntohl" | "htonll" | "ntohll" => {
                self.expr(&args[0])?;
                let bits = match name {
                    "htons" | "ntohs" => 16,
                    "htonl" | "ntohl" => 32,
                    _ => 64,
                };
                // BPF_END | BPF_TO_BE on a little-endian machine swaps bytes.
                self.asm.push(Insn::new(0xd4 | 0x08, R0, 0, 0, bits));
                Ok(())
            }
            "stack" | "ustack" => {
                let user = name == "ustack";
                let max = if user {
                    self.lay.sizes.ustackframes
                } else {
                    self.lay.sizes.stackframes
                };
                let frames = match args.first().map(|a| a.as_const()) {
                    None => max,
                    Some(Some(n)) if n > 0 => (n as u32).min(max),
                    Some(_) => {
                        return Err(
                            self.err(format!("{name}( ) frame count must be a positive constant"))
                        )
                    }
                };
                self.get_stack(user, frames)?;
                let off = if user {
                    self.lay.ustack_off
                } else {
                    self.lay.stack_off
                };
                self.scratch_ptr(R0, off);
                Ok(())
            }
            "mutex_owned" | "mutex_owner" => {
                // Linux's mutex: `owner` holds the owning task, with flag
                // bits in its low three bits.
                let owner = self.kmember("mutex", "owner")?;
                self.expr(&args[0])?;
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, owner as i32));
                self.read_kernel(&crate::types::int(8, false))?;
                self.asm.push(Insn::alu64_imm(Alu::And, R0, !7));
                if name == "mutex_owned" {
                    self.make_bool(R0);
                }
                Ok(())
            }
            "mutex_type_adaptive" | "mutex_type_spin" => {
                // Every Linux mutex spins while its owner runs, then sleeps:
                // adaptive; spin locks are not mutexes.
                self.expr(&args[0])?;
                let v = (name == "mutex_type_adaptive") as i32;
                self.asm.push(Insn::mov64_imm(R0, v));
                Ok(())
            }
            "rw_read_held" | "rw_write_held" | "rw_iswriter" => {
                // rw_semaphore.count: bit 0 writer-locked, readers from bit 8.
                let count = self.kmember("rw_semaphore", "count")?;
                self.expr(&args[0])?;
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, count as i32));
                self.read_kernel(&crate::types::int(8, false))?;
                if name == "rw_read_held" {
                    let no = self.asm.label();
                    let end = self.asm.label();
                    self.asm.push(Insn::mov64_reg(R1, R0));
                    self.asm.push(Insn::alu64_imm(Alu::And, R1, 1));
                    self.asm.jmp_imm(Cond::Ne, R1, 0, no);
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 8));
                    self.make_bool(R0);
                    self.asm.ja(end);
                    self.asm.bind(no);
                    self.asm.push(Insn::mov64_imm(R0, 0));
                    self.asm.bind(end);
                } else {
                    self.asm.push(Insn::alu64_imm(Alu::And, R0, 1));
                }
                Ok(())
            }
            "progenyof" => {
                // Walk real_parent from the current task: is `pid` this
                // process or an ancestor? At most 64 generations (deeper
                // trees are not a thing), stopping at pid 1 or below.
                let parent = self.kmember("task_struct", "real_parent")?;
                let tgid = self.kmember("task_struct", "tgid")?;
                self.expr(&args[0])?;
                let want = self.spill(R0)?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                let task = self.spill(R0)?;
                self.asm.push(Insn::mov64_imm(R0, 64));
                let count = self.spill(R0)?;
                let top = self.asm.label();
                let yes = self.asm.label();
                let no = self.asm.label();
                let end = self.asm.label();
                self.asm.bind(top);
                self.asm.push(Insn::ldx(Size::DW, R0, FP, count));
                self.asm.jmp_imm(Cond::Eq, R0, 0, no);
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, -1));
                self.asm.push(Insn::stx(Size::DW, FP, count, R0));
                self.asm.push(Insn::ldx(Size::DW, R0, FP, task));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, tgid as i32));
                self.read_kernel(&crate::types::int(4, true))?;
                self.asm.push(Insn::ldx(Size::DW, R1, FP, want));
                self.asm.jmp_reg(Cond::Eq, R0, R1, yes);
                self.asm.jmp_imm(Cond::Sle, R0, 1, no);
                self.asm.push(Insn::ldx(Size::DW, R0, FP, task));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, parent as i32));
                self.read_kernel(&crate::types::int(8, false))?;
                self.asm.push(Insn::stx(Size::DW, FP, task, R0));
                self.asm.ja(top);
                self.asm.bind(yes);
                self.asm.push(Insn::mov64_imm(R0, 1));
                self.asm.ja(end);
                self.asm.bind(no);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.bind(end);
                self.stack -= 24; // want, task, count
                Ok(())
            }
            "sym" | "func" | "mod" | "usym" | "ufunc" | "umod" | "uaddr" => {
                // The address itself; printing makes it a symbol.
                self.expr(&args[0])
            }
            "speculation" => {
                // Claim the first free slot with compare-and-swap 0 -> 1.
                let done = self.asm.label();
                for i in 1..=self.lay.nspec {
                    self.asm.ld_map_value(R1, self.lay.specs, i * 8);
                    let next = self.asm.label();
                    if self.lay.portable {
                        // One thread: test and set is enough. As many
                        // instructions as the atomic form, so that fault
                        // locations agree between the backends.
                        self.asm.push(Insn::ldx(Size::DW, R0, R1, 0));
                        self.asm.push(Insn::mov64_imm(R2, 1));
                        self.asm.jmp_imm(Cond::Ne, R0, 0, next);
                        self.asm.push(Insn::stx(Size::DW, R1, 0, R2));
                    } else {
                        self.asm.push(Insn::mov64_imm(R0, 0));
                        self.asm.push(Insn::mov64_imm(R2, 1));
                        self.asm.push(Insn::cmpxchg64(R1, 0, R2));
                        self.asm.jmp_imm(Cond::Ne, R0, 0, next);
                    }
                    self.asm.push(Insn::mov64_imm(R0, i as i32));
                    self.asm.ja(done);
                    self.asm.bind(next);
                }
                self.count(crate::codegen::object::Counter::SpecBusy);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.bind(done);
                Ok(())
            }
            name if super::strings::is_string_subr(name) => self.string_subr(name, args),
            name if super::memory::is_memory_subr(name) => self.memory_subr(name, args),
            name if super::inet::is_inet_subr(name) => self.inet_subr(name, args),
            "getmajor" | "getminor" => {
                // Linux's kernel-internal dev_t (include/linux/kdev_t.h):
                // major in the bits above MINORBITS (20), minor below; as
                // Oracle's DTrace for Linux decodes it.
                self.expr(&args[0])?;
                if name == "getmajor" {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 20));
                } else {
                    self.asm.push(Insn::alu64_imm(Alu::And, R0, 0xfffff));
                }
                self.normalize(R0, ty);
                Ok(())
            }
            other => Err(self.err(format!(
                "{other}( ) is not supported by code generation yet"
            ))),
        }
    }

    /// Capture the current kernel or user stack into its scratch buffer
    /// (zeroed first, so the frames end at a 0): at most `frames` frames, 0
    /// for all the buffer holds. A user buffer starts with the process ID.
    /// r0 = bpf_get_stack's result (bytes, or a negative error).
    pub(crate) fn get_stack(&mut self, user: bool, frames: u32) -> R<()> {
        let (off, buf) = if user {
            (self.lay.ustack_off, self.lay.sizes.ustack_buf())
        } else {
            (self.lay.stack_off, self.lay.sizes.stack_buf())
        };
        self.zero_scratch(off, buf);
        // BEGIN, END and ERROR fire in the tracer, not in the kernel code
        // anything traced runs: their kernel stack is empty, as DTrace's.
        if !user && self.probe.provider == "dtrace" {
            self.asm.push(Insn::mov64_imm(R0, 0));
            return Ok(());
        }
        let mut pcs = off;
        let mut bytes = buf;
        if user {
            self.asm.push(Insn::call(helper::GET_CURRENT_PID_TGID));
            self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
            self.asm.push(Insn::stx(Size::DW, R9, off as i16, R0));
            pcs += 8;
            bytes -= 8;
        }
        if frames > 0 {
            bytes = bytes.min(frames * 8);
        }
        self.asm.push(Insn::mov64_reg(R1, R6));
        self.scratch_ptr(R2, pcs);
        self.asm.push(Insn::mov64_imm(R3, bytes as i32));
        // BPF_F_USER_STACK; a tracepoint's kernel stack starts in its perf
        // handler (perf_trace_*, perf_syscall_enter): skip that frame, as
        // DTrace skips its own artificial frames.
        let flags = if user {
            1 << 8
        } else if self.target.prog_type == crate::codegen::ProgType::Tracepoint {
            1
        } else {
            0
        };
        self.asm.push(Insn::mov64_imm(R4, flags));
        self.asm.push(Insn::call(helper::GET_STACK));
        if user && self.target.function_entry && bytes >= 16 {
            // At a function's first instruction the caller is only the
            // return address at the stack pointer; the frame-pointer walk
            // skips it. Move frames 1.. up one and put it at 1.
            let result = self.spill(R0)?;
            let frames = (bytes / 8) as i16;
            for i in (2..frames).rev() {
                let at = (pcs as i16) + 8 * i;
                self.asm.push(Insn::ldx(Size::DW, R1, R9, at - 8));
                self.asm.push(Insn::stx(Size::DW, R9, at, R1));
            }
            let slot = -16 - self.stack as i16;
            self.asm.push(Insn::st(Size::DW, FP, slot, 0));
            self.asm.push(Insn::mov64_reg(R1, FP));
            self.asm.push(Insn::alu64_imm(Alu::Add, R1, slot as i32));
            self.asm.push(Insn::mov64_imm(R2, 8));
            // pt_regs.sp
            self.asm.push(Insn::ldx(Size::DW, R3, R6, 152));
            self.asm.push(Insn::call(helper::PROBE_READ_USER));
            self.asm.push(Insn::ldx(Size::DW, R1, FP, slot));
            self.asm.push(Insn::stx(Size::DW, R9, pcs as i16 + 8, R1));
            self.unspill(R0, result);
        }
        Ok(())
    }

    /// r0 = `uregs[i]`: the current thread's user registers as the kernel
    /// saved them on entry. Indices 0–20 are x86-64's `struct pt_regs`
    /// words in order (regs.d's R_R15 … R_SS); 21–25 (DS ES FS GS
    /// TRAPNO) come from the task's `thread` data, as in DTrace.
    fn user_register(&mut self, index: &Expr) -> R<()> {
        let i = index.as_const().unwrap_or(u64::MAX);
        if i > 25 {
            return Err(crate::diag::Diagnostic::new(
                crate::diag::ErrTag::D_UNKNOWN,
                Some(index.span),
                format!("uregs[]: index out of bounds ({})", i as i64),
            ));
        }
        if self.lay.portable {
            return Err(self.err("uregs[ ] needs the kernel backend"));
        }
        let slot = -16 - self.stack as i16;
        self.asm.push(Insn::st(Size::DW, FP, slot, 0));
        if i <= 20 {
            self.asm.push(Insn::call(helper::GET_CURRENT_TASK_BTF));
            self.asm.push(Insn::mov64_reg(R1, R0));
            self.asm.push(Insn::call(helper::TASK_PT_REGS));
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.asm.push(Insn::alu64_imm(Alu::Add, R3, 8 * i as i32));
            self.asm.push(Insn::mov64_imm(R2, 8));
        } else {
            let (field, size) = match i {
                21 => ("ds", 2),
                22 => ("es", 2),
                23 => ("fsindex", 2),
                24 => ("gsindex", 2),
                _ => ("trap_nr", 8),
            };
            let off =
                self.kmember("task_struct", "thread")? + self.kmember("thread_struct", field)?;
            self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.asm.push(Insn::alu64_imm(Alu::Add, R3, off as i32));
            self.asm.push(Insn::mov64_imm(R2, size));
        }
        self.asm.push(Insn::mov64_reg(R1, FP));
        self.asm.push(Insn::alu64_imm(Alu::Add, R1, slot as i32));
        self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
        self.asm.push(Insn::ldx(Size::DW, R0, FP, slot));
        Ok(())
    }
}
