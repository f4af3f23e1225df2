//! Expressions: each leaves its value in r0 — an integer in canonical
//! 64-bit form, or for strings a pointer to a zero-padded `strsize` buffer.

use super::{is_stringish, Lower, R};
use crate::ast::{BinOp, UnOp};
use crate::builtins::BuiltinVar;
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::target::ArgSource;
use crate::ir::{Expr, ExprKind as K};
use crate::types::Type;

/// `pt_regs` offsets of the x86-64 argument registers (di, si, dx, cx, r8, r9).
const PT_REGS_ARGS: [i16; 6] = [112, 104, 96, 88, 72, 64];
/// `pt_regs.ip` and `.cs` inside `bpf_perf_event_data`.
const PERF_IP: i16 = 128;
const PERF_CS: i16 = 136;

impl Lower<'_> {
    /// Evaluate `e` into r0.
    pub(crate) fn expr(&mut self, e: &Expr) -> R<()> {
        crate::parser::grow(|| self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> R<()> {
        match &e.kind {
            K::Const(v) => {
                self.imm(R0, *v);
                Ok(())
            }
            K::Str(s) => {
                let off = self.strtab.intern(s);
                self.asm.ld_map_value(R0, self.lay.strings, off);
                Ok(())
            }
            K::Var(_) | K::Elem(..) => self.load_place(e),
            K::Member { .. } => self.member(e),
            K::Builtin(b) => self.builtin(*b, &e.ty),
            K::ProbeArg(n) => {
                let src = match &self.target.typed_args {
                    Some(v) => v.get(*n as usize).cloned(),
                    None => self.target.args.get(*n as usize).cloned(),
                };
                self.arg(src, &e.ty)
            }
            K::KernelSym(s) => Err(self.err(format!("kernel symbol `{s} is not supported yet"))),
            K::Unary(op, a) => self.unary(*op, a, &e.ty),
            K::Binary(op, a, b) => self.binary(*op, a, b, &e.ty),
            K::Ternary(c, a, b) => {
                let els = self.asm.label();
                let end = self.asm.label();
                self.expr(c)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, els);
                self.cond_depth += 1;
                self.expr(a)?;
                self.convert(&a.ty, &e.ty)?;
                self.asm.ja(end);
                self.asm.bind(els);
                self.expr(b)?;
                self.convert(&b.ty, &e.ty)?;
                self.cond_depth -= 1;
                self.asm.bind(end);
                Ok(())
            }
            K::Cast(a) => {
                self.expr(a)?;
                self.convert(&a.ty, &e.ty)
            }
            K::Assign(t, op, v) => self.assign(t, *op, v),
            K::IncDec {
                target,
                inc,
                prefix,
            } => self.incdec(target, *inc, *prefix),
            K::Deref(p) => {
                self.expr(p)?;
                self.read_kernel(&e.ty)
            }
            K::AddrOf(a) => match &a.kind {
                K::Member { .. } => {
                    if self.kernel_address(a)? {
                        Ok(())
                    } else {
                        Err(self.err("cannot take the address of a D variable"))
                    }
                }
                _ => Err(self.err("unsupported operand of &")),
            },
            K::Call(name, args) => self.call(name, args, &e.ty),
            K::Stringof(a) => {
                self.expr(a)?;
                if is_stringish(&a.ty) {
                    Ok(())
                } else if a.ty.is_pointer() {
                    self.kernel_string()
                } else {
                    Err(self.err("stringof( ) of a non-string value is not supported yet"))
                }
            }
            K::Xlate(..) => Err(self.err("translators are not supported by code generation yet")),
        }
    }

    /// Convert r0 from type `from` to type `to`.
    pub(crate) fn convert(&mut self, from: &Type, to: &Type) -> R<()> {
        if to.is_void() {
            return Ok(());
        }
        if is_stringish(to) {
            if is_stringish(from) {
                return Ok(());
            }
            if from.is_pointer() {
                return self.kernel_string();
            }
            return Err(self.err(format!("cannot convert {} to {}", from.name(), to.name())));
        }
        if to.is_integer() {
            self.normalize(R0, to);
        }
        Ok(())
    }

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

    fn member(&mut self, e: &Expr) -> R<()> {
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

    fn builtin(&mut self, b: BuiltinVar, ty: &Type) -> R<()> {
        use BuiltinVar::*;
        match b {
            Pid | Tid => {
                self.asm.push(Insn::call(helper::GET_CURRENT_PID_TGID));
                if b == Pid {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
                } else {
                    self.asm.push(Insn::mov32_reg(R0, R0));
                }
            }
            Uid | Gid => {
                self.asm.push(Insn::call(helper::GET_CURRENT_UID_GID));
                if b == Gid {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
                } else {
                    self.asm.push(Insn::mov32_reg(R0, R0));
                }
            }
            Cpu => self.asm.push(Insn::call(helper::GET_SMP_PROCESSOR_ID)),
            Timestamp => self.asm.push(Insn::call(helper::KTIME_GET_NS)),
            Walltimestamp => {
                self.asm.push(Insn::call(helper::KTIME_GET_NS));
                self.asm.ld_map_value(R1, self.lay.globals, 0);
                self.asm.push(Insn::ldx(Size::DW, R1, R1, 0));
                self.asm.push(Insn::alu64_reg(Alu::Add, R0, R1));
            }
            Execname => {
                let t = self.str_temp()?;
                self.scratch_ptr(R1, t);
                self.asm.push(Insn::mov64_imm(R2, 16));
                self.asm.push(Insn::call(helper::GET_CURRENT_COMM));
                self.scratch_ptr(R0, t);
            }
            Zonename | Zoneid if self.target.netns.is_some() && self.lay.netns_zones.is_some() => {
                return self.zone_of_netns(b == Zonename, ty);
            }
            Zonename | Zoneid => {
                // A zone's processes are in the cgroup2 group
                // `lumen/UUID` (see the zones crate): read the task's
                // default-hierarchy cgroup from its task_struct, and if its
                // parent directory is `lumen`, the zone is its name (the
                // UUID, as SmartOS names zones) and its id the cgroup id.
                // In the kernel, so a zone booted a moment ago is named
                // right; host processes are the global zone.
                // Without the kernel's types there can be no zones: global.
                let offsets = (|| {
                    Some((
                        self.kmember("task_struct", "cgroups").ok()?,
                        self.kmember("css_set", "dfl_cgrp").ok()?,
                        self.kmember("cgroup", "kn").ok()?,
                        self.kmember("kernfs_node", "name").ok()?,
                        self.kmember("kernfs_node", "__parent")
                            .or_else(|_| self.kmember("kernfs_node", "parent"))
                            .ok()?,
                        self.kmember("kernfs_node", "id").ok()?,
                    ))
                })();
                let Some((cgroups, dfl, kn, name, parent, id)) = offsets else {
                    if b == Zonename {
                        let off = self.strtab.intern(b"global");
                        self.asm.ld_map_value(R0, self.lay.strings, off);
                        return Ok(());
                    }
                    self.asm.push(Insn::mov64_imm(R0, 0));
                    self.normalize(R0, ty);
                    return Ok(());
                };
                let global = self.asm.label();
                let done = self.asm.label();
                let ptr = crate::types::int(8, false);
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                for off in [cgroups, dfl, kn] {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, off as i32));
                    self.read_kernel(&ptr)?;
                    self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                }
                let node = self.spill(R0)?;
                // parent->name must be "lumen": its first 6 bytes, NUL included.
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, parent as i32));
                self.read_kernel(&ptr)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, name as i32));
                self.read_kernel(&ptr)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                self.read_kernel(&ptr)?;
                self.imm(R1, 0xffff_ffff_ffff);
                self.asm.push(Insn::alu64_reg(Alu::And, R0, R1));
                self.imm(R1, u64::from_le_bytes(*b"lumen\0\0\0"));
                self.asm.jmp_reg(Cond::Ne, R0, R1, global);
                self.asm.push(Insn::ldx(Size::DW, R0, FP, node));
                if b == Zonename {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, name as i32));
                    self.read_kernel(&ptr)?;
                    let t = self.str_temp()?;
                    self.asm.push(Insn::mov64_reg(R3, R0));
                    self.scratch_ptr(R1, t);
                    self.asm
                        .push(Insn::mov64_imm(R2, self.lay.strsize.min(64) as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
                    self.scratch_ptr(R0, t);
                } else {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, id as i32));
                    self.read_kernel(&ptr)?;
                    self.asm.push(Insn::alu64_imm(Alu::And, R0, 0x7fff_ffff));
                }
                self.asm.ja(done);
                self.asm.bind(global);
                if b == Zonename {
                    let off = self.strtab.intern(b"global");
                    self.asm.ld_map_value(R0, self.lay.strings, off);
                } else {
                    self.asm.push(Insn::mov64_imm(R0, 0));
                }
                self.asm.bind(done);
                self.stack -= 8; // node
                if b == Zonename {
                    return Ok(());
                }
            }
            Probeprov | Probemod | Probefunc | Probename => {
                let s = match b {
                    Probeprov => self.probe.provider.clone(),
                    Probemod => self.probe.module.clone(),
                    Probefunc => self.probe.function.clone(),
                    _ => self.probe.name.clone(),
                };
                let off = self.strtab.intern(s.as_bytes());
                self.asm.ld_map_value(R0, self.lay.strings, off);
            }
            Id => self.imm(R0, self.probe.id as u64),
            Epid => self.imm(R0, self.epid as u64),
            Curthread => self.asm.push(Insn::call(helper::GET_CURRENT_TASK)),
            Ppid => {
                let parent = self.kmember("task_struct", "real_parent")?;
                let tgid = self.kmember("task_struct", "tgid")?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, parent as i32));
                self.read_kernel(&crate::types::int(8, false))?;
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, tgid as i32));
                self.read_kernel(&crate::types::int(4, true))?;
            }
            Vtimestamp => {
                // The task's CPU time so far (updated at ticks and switches).
                let se = self.kmember("task_struct", "se")?;
                let sum = self.kmember("sched_entity", "sum_exec_runtime")?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm
                    .push(Insn::alu64_imm(Alu::Add, R0, (se + sum) as i32));
                self.read_kernel(&crate::types::int(8, false))?;
            }
            Errno => match self.target.syscall_ret.clone() {
                Some(src) => {
                    self.arg(Some(src), &crate::types::int(8, true))?;
                    let done = self.asm.label();
                    self.asm.jmp_imm(Cond::Sge, R0, 0, done);
                    self.negate(R0);
                    let end = self.asm.label();
                    self.asm.ja(end);
                    self.asm.bind(done);
                    self.asm.push(Insn::mov64_imm(R0, 0));
                    self.asm.bind(end);
                }
                None => self.asm.push(Insn::mov64_imm(R0, 0)),
            },
            Arg(n) => {
                let src = self.target.args.get(n as usize).cloned();
                return self.arg(src, ty);
            }
            Stackdepth | Ustackdepth => {
                // Bytes bpf_get_stack wrote, in frames; a failure is depth 0.
                let user = b == Ustackdepth;
                self.get_stack(user, 0)?;
                let ok = self.asm.label();
                self.asm.jmp_imm(Cond::Sge, R0, 0, ok);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.bind(ok);
                self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 3));
            }
            Caller | Ucaller => {
                // The frame that called the probed code: the stack's
                // second program counter (0 when there is none).
                let user = b == Ucaller;
                self.get_stack(user, 0)?;
                let off = if user {
                    self.lay.ustack_off + 16
                } else {
                    self.lay.stack_off + 8
                };
                self.asm.push(Insn::ldx(Size::DW, R0, R9, off as i16));
            }
            other => {
                return Err(self.err(format!(
                    "built-in variable {} is not supported by code generation yet",
                    format!("{other:?}").to_lowercase()
                )))
            }
        }
        self.normalize(R0, ty);
        Ok(())
    }

    /// Offset of a kernel struct member, from the engine's BTF.
    fn kmember(&self, strct: &str, member: &str) -> R<u32> {
        self.targets
            .kernel_member(strct, member)
            .map(|(off, _)| off)
            .ok_or_else(|| {
                self.err(format!(
                    "kernel type information (BTF) has no {strct}.{member}"
                ))
            })
    }

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

    /// `zonename` (`name`) or `zoneid` of a probe of packets or sockets:
    /// the zone whose network namespace the probe's `struct net *` is,
    /// from the zones' pinned table (`probes::netns`); the global zone
    /// when the namespace is not a zone's.
    fn zone_of_netns(&mut self, name: bool, ty: &Type) -> R<()> {
        let (Some(ns), Some(map)) = (self.target.netns.clone(), self.lay.netns_zones) else {
            return Err(self.err("no network namespace for this probe"));
        };
        let cookie = self.kmember("net", "net_cookie")?;
        let global = self.asm.label();
        let done = self.asm.label();
        self.arg(Some(ns), &crate::types::int(8, false))?;
        self.asm.jmp_imm(Cond::Eq, R0, 0, global);
        self.asm.push(Insn::alu64_imm(Alu::Add, R0, cookie as i32));
        self.read_kernel(&crate::types::int(8, false))?;
        let key = self.spill(R0)?;
        self.asm.ld_map(R1, map);
        self.asm.push(Insn::mov64_reg(R2, FP));
        self.asm.push(Insn::alu64_imm(Alu::Add, R2, key as i32));
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        self.stack -= 8;
        self.asm.jmp_imm(Cond::Eq, R0, 0, global);
        if name {
            // The entry: u64 zoneid, then the name.
            let t = self.str_temp()?;
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.asm.push(Insn::alu64_imm(Alu::Add, R3, 8));
            self.scratch_ptr(R1, t);
            let n = (self.lay.strsize as usize).min(probes::netns::NAME_LEN) as i32;
            self.asm.push(Insn::mov64_imm(R2, n));
            self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
            self.scratch_ptr(R0, t);
        } else {
            self.asm.push(Insn::ldx(Size::DW, R0, R0, 0));
            self.asm.push(Insn::alu64_imm(Alu::And, R0, 0x7fff_ffff));
        }
        self.asm.ja(done);
        self.asm.bind(global);
        if name {
            let off = self.strtab.intern(b"global");
            self.asm.ld_map_value(R0, self.lay.strings, off);
        } else {
            self.asm.push(Insn::mov64_imm(R0, 0));
        }
        self.asm.bind(done);
        if !name {
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

    fn unary(&mut self, op: UnOp, a: &Expr, ty: &Type) -> R<()> {
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

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, ty: &Type) -> R<()> {
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
        self.expr(a)?;
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
        // Pointer arithmetic scales the integer side by the element size.
        if matches!(op, BinOp::Add | BinOp::Sub) && ty.is_pointer() {
            let elem = ty.referent().map(|t| t.size()).unwrap_or(1).max(1);
            if a.ty.is_pointer() && b.ty.is_integer() && elem > 1 {
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

    fn make_bool(&mut self, r: u8) {
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

    /// Subroutines that produce values.
    fn call(&mut self, name: &str, args: &[Expr], ty: &Type) -> R<()> {
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
                self.asm.push(Insn::call(helper::PROBE_READ_USER_STR));
                self.scratch_ptr(R0, t);
                Ok(())
            }
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
}
