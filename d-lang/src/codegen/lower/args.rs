//! Probe arguments: each [`ArgSource`] the target resolver chose, read from the probe's context.

use super::{is_stringish, Lower, R};
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::target::ArgSource;
use crate::types::Type;

/// `pt_regs` offsets of the x86-64 argument registers (di, si, dx, cx, r8, r9).
const PT_REGS_ARGS: [i16; 6] = [112, 104, 96, 88, 72, 64];

/// `pt_regs.ip` and `.cs` inside `bpf_perf_event_data`.
const PERF_IP: i16 = 128;

const PERF_CS: i16 = 136;

impl Lower<'_> {
    pub(super) fn arg(&mut self, src: Option<ArgSource>, ty: &Type) -> R<()> {
        match src {
            None | Some(ArgSource::Const(0)) => self.asm.push(Insn::mov64_imm(R0, 0)),
            Some(ArgSource::Const(v)) => self.imm(R0, v),
            Some(ArgSource::CtxField {
                offset,
                size,
                signed,
            }) => {
                self.asm
                    .push(Insn::ldx(Size::of(size as u64), R0, R6, offset as i16));
                if signed && size < 8 {
                    let shift = 64 - size as i32 * 8;
                    self.asm.push(Insn::alu64_imm(Alu::Lsh, R0, shift));
                    self.asm.push(Insn::alu64_imm(Alu::Arsh, R0, shift));
                }
            }
            Some(ArgSource::CtxDataLoc { offset }) => {
                // loc = len << 16 | offset-in-record
                self.asm.push(Insn::ldx(Size::W, R3, R6, offset as i16));
                self.asm.push(Insn::alu64_imm(Alu::And, R3, 0xffff));
                self.asm.push(Insn::alu64_reg(Alu::Add, R3, R6));
                if is_stringish(ty) {
                    let t = self.str_temp()?;
                    self.scratch_ptr(R1, t);
                    self.asm.push(Insn::mov64_imm(R2, self.lay.strsize as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
                    self.scratch_ptr(R0, t);
                    return Ok(());
                }
                self.asm.push(Insn::mov64_reg(R0, R3));
                return Ok(());
            }
            Some(ArgSource::CtxArray { offset, len }) => {
                if is_stringish(ty) {
                    let t = self.str_temp()?;
                    let n = (len as u32).min(self.lay.strsize - 1);
                    self.scratch_ptr(R1, t);
                    self.asm.push(Insn::mov64_imm(R2, n as i32));
                    self.asm.push(Insn::mov64_reg(R3, R6));
                    self.asm.push(Insn::alu64_imm(Alu::Add, R3, offset as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
                    self.scratch_ptr(R0, t);
                    return Ok(());
                }
                return Err(self.err("array arguments can only be used as strings"));
            }
            Some(ArgSource::RegValue {
                offset,
                size,
                signed,
            }) => {
                self.asm.push(Insn::ldx(Size::DW, R0, R6, offset as i16));
                self.extend(R0, size, signed);
            }
            Some(ArgSource::UserMem {
                reg,
                disp,
                size,
                signed,
            }) => {
                // Read into the zero-key slot's neighbour on the stack; a
                // bad address is an invalid-address fault.
                let slot = -16 - self.stack as i16;
                self.asm.push(Insn::st(Size::DW, FP, slot, 0));
                self.asm.push(Insn::ldx(Size::DW, R3, R6, reg as i16));
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, disp));
                self.fault_addr(R3);
                self.asm.push(Insn::mov64_reg(R1, FP));
                self.asm.push(Insn::alu64_imm(Alu::Add, R1, slot as i32));
                self.asm.push(Insn::mov64_imm(R2, size.clamp(1, 8) as i32));
                self.checked_read(helper::PROBE_READ_USER);
                self.asm.push(Insn::ldx(Size::DW, R0, FP, slot));
                self.extend(R0, size, signed);
            }
            Some(ArgSource::ExitReason) => {
                // exit_code: status << 8 for exit(), else the signal number
                // with 0x80 if it dumped core.
                let code = self.kmember("task_struct", "exit_code")?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, code as i32));
                self.read_kernel(&crate::types::int(4, true))?;
                let done = self.asm.label();
                let signalled = self.asm.label();
                self.asm.push(Insn::mov64_reg(R1, R0));
                self.asm.push(Insn::alu64_imm(Alu::And, R1, 0x7f));
                self.asm.jmp_imm(Cond::Ne, R1, 0, signalled);
                self.asm.push(Insn::mov64_imm(R0, 1));
                self.asm.ja(done);
                self.asm.bind(signalled);
                self.asm.push(Insn::alu64_imm(Alu::And, R0, 0x80));
                self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 7));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, 2));
                self.asm.bind(done);
            }
            Some(ArgSource::Translated(_)) => {
                return Err(self.err(
                    "a translated probe argument (args[N]) is a view: only its members can be used (args[N]->member)",
                ))
            }
            Some(ArgSource::CtxFieldOp { offset, size, op }) => {
                self.asm
                    .push(Insn::ldx(Size::of(size as u64), R0, R6, offset as i16));
                self.apply_op(op);
            }
            Some(ArgSource::CtxAddr { offset }) => {
                self.asm.push(Insn::mov64_reg(R0, R6));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, offset as i32));
            }
            Some(ArgSource::Kernel {
                base,
                offset,
                size,
                signed,
            }) => {
                // A NULL anywhere in a pointer chain reads as 0, as a
                // translator's members do for what a packet lacks.
                let word = crate::types::int(8, false);
                self.arg(Some(*base), &word)?;
                let done = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R0, 0, done);
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, offset));
                self.read_kernel(&crate::types::int(size.clamp(1, 8), signed))?;
                self.asm.bind(done);
            }
            Some(ArgSource::Sum(a, b)) => {
                let word = crate::types::int(8, false);
                self.arg(Some(*a), &word)?;
                let slot = self.spill(R0)?;
                self.arg(Some(*b), &word)?;
                self.unspill(R1, slot);
                self.asm.push(Insn::alu64_reg(Alu::Add, R0, R1));
            }
            Some(ArgSource::Mask { mask, value }) => {
                let word = crate::types::int(8, false);
                self.arg(Some(*mask), &word)?;
                let slot = self.spill(R0)?;
                self.arg(Some(*value), &word)?;
                self.unspill(R1, slot);
                // 1 → all ones, 0 → 0.
                self.negate(R1);
                self.asm.push(Insn::alu64_reg(Alu::And, R0, R1));
            }
            Some(ArgSource::Names { value, names }) => {
                self.arg(Some(*value), &crate::types::int(8, false))?;
                let done = self.asm.label();
                self.asm.push(Insn::mov64_reg(R1, R0));
                for (i, n) in names.iter().enumerate() {
                    let next = self.asm.label();
                    self.asm.jmp_imm(Cond::Ne, R1, i as i32, next);
                    let off = self.strtab.intern(n.as_bytes());
                    self.asm.ld_map_value(R0, self.lay.strings, off);
                    self.asm.ja(done);
                    self.asm.bind(next);
                }
                let off = self.strtab.intern(b"unknown");
                self.asm.ld_map_value(R0, self.lay.strings, off);
                self.asm.bind(done);
                return Ok(());
            }
            Some(ArgSource::Op { src, op }) => {
                self.arg(Some(*src), &crate::types::int(8, false))?;
                self.apply_op(op);
            }
            Some(ArgSource::Inet { family, v4, v6 }) => {
                let word = crate::types::int(8, false);
                self.arg(Some(*family), &word)?;
                let f = self.spill(R0)?;
                self.arg(Some(*v4), &word)?;
                let a4 = self.spill(R0)?;
                self.arg(Some(*v6), &word)?;
                let a6 = self.spill(R0)?;
                self.inet_by_family(f, a4, a6)?;
                self.stack -= 24;
                return Ok(());
            }
            Some(ArgSource::KernelStr { addr }) => {
                self.arg(Some(*addr), &crate::types::int(8, false))?;
                let t = self.str_temp()?;
                let done = self.asm.label();
                self.asm.push(Insn::mov64_reg(R3, R0));
                self.scratch_ptr(R0, t);
                self.asm.jmp_imm(Cond::Eq, R3, 0, done);
                self.scratch_ptr(R1, t);
                self.asm.push(Insn::mov64_imm(R2, self.lay.strsize as i32));
                self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
                self.scratch_ptr(R0, t);
                self.asm.bind(done);
                return Ok(());
            }
            Some(ArgSource::Unavailable(why)) => {
                return Err(self.err(format!(
                    "this argument of {} is not available yet: {why}",
                    self.probe.full_name()
                )))
            }
            Some(ArgSource::CtxUserString { offset }) => {
                self.asm.push(Insn::ldx(Size::DW, R3, R6, offset as i16));
                if is_stringish(ty) {
                    let t = self.str_temp()?;
                    self.scratch_ptr(R1, t);
                    self.asm.push(Insn::mov64_imm(R2, self.lay.strsize as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_USER_STR));
                    self.scratch_ptr(R0, t);
                    return Ok(());
                }
                self.asm.push(Insn::mov64_reg(R0, R3));
            }
            Some(ArgSource::Reg(n)) => {
                let off = *PT_REGS_ARGS
                    .get(n as usize)
                    .ok_or_else(|| self.err(format!("argument register {n} is not available")))?;
                self.asm.push(Insn::ldx(Size::DW, R0, R6, off));
            }
            Some(ArgSource::PerfPc { user }) => {
                // user mode iff (cs & 3) == 3
                let done = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, R1, R6, PERF_CS));
                self.asm.push(Insn::alu64_imm(Alu::And, R1, 3));
                self.asm.push(Insn::mov64_imm(R0, 0));
                let cond = if user { Cond::Ne } else { Cond::Eq };
                self.asm.jmp_imm(cond, R1, 3, done);
                self.asm.push(Insn::ldx(Size::DW, R0, R6, PERF_IP));
                self.asm.bind(done);
            }
        }
        if ty.is_integer() {
            self.normalize(R0, ty);
        }
        Ok(())
    }

    /// r0 = op(r0), for transformed arguments.
    fn apply_op(&mut self, op: crate::codegen::target::FieldOp) {
        use crate::codegen::target::FieldOp;
        match op {
            FieldOp::Shr(n) => self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, n as i32)),
            FieldOp::And(m) => {
                self.imm(R1, m as u64);
                self.asm.push(Insn::alu64_reg(Alu::And, R0, R1));
            }
            FieldOp::Mul(n) => self.asm.push(Insn::alu64_imm(Alu::Mul, R0, n as i32)),
            FieldOp::Add(n) => self.asm.push(Insn::alu64_imm(Alu::Add, R0, n)),
            FieldOp::Or(n) => {
                self.imm(R1, n as u64);
                self.asm.push(Insn::alu64_reg(Alu::Or, R0, R1));
            }
            FieldOp::Eq(n) => {
                let done = self.asm.label();
                self.asm.push(Insn::mov64_reg(R1, R0));
                self.asm.push(Insn::mov64_imm(R0, 1));
                self.asm.jmp_imm(Cond::Eq, R1, n, done);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.bind(done);
            }
            // BPF_END | BPF_TO_BE: a byte swap on this little-endian host.
            FieldOp::Ntohs => self.asm.push(Insn::new(0xdc, R0, 0, 0, 16)),
            FieldOp::Ntohl => self.asm.push(Insn::new(0xdc, R0, 0, 0, 32)),
            FieldOp::RwbsFlags => {
                let write = self.asm.label();
                let done = self.asm.label();
                self.asm.push(Insn::alu64_imm(Alu::And, R0, 0xff));
                self.asm.jmp_imm(Cond::Eq, R0, b'W' as i32, write);
                let read = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R0, b'R' as i32, read);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.ja(done);
                self.asm.bind(read);
                self.asm.push(Insn::mov64_imm(R0, 0x40));
                self.asm.ja(done);
                self.asm.bind(write);
                self.asm.push(Insn::mov64_imm(R0, 0x100));
                self.asm.bind(done);
            }
        }
    }

    /// Keep the low `size` bytes of `r`, sign-extended if `signed`.
    fn extend(&mut self, r: u8, size: u8, signed: bool) {
        if size >= 8 {
            return;
        }
        let shift = 64 - 8 * size as i32;
        self.asm.push(Insn::alu64_imm(Alu::Lsh, r, shift));
        let op = if signed { Alu::Arsh } else { Alu::Rsh };
        self.asm.push(Insn::alu64_imm(op, r, shift));
    }
}
