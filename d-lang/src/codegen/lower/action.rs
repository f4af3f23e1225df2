//! Actions: data-recording ones write fields into the clause's record and
//! set their bit in the record's action mask; the consumer does the rest.

use super::{is_stringish, Lower, R};
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::object::{Field, FieldKind, RecordAction, RecordKind};
use crate::ir::{Action, Expr};
use crate::types::Type;

/// Largest `tracemem()` size: a record holds at most 8 KiB.
const TRACEMEM_MAX: u32 = 4096;

/// Whether an action produces a record.
pub(crate) fn is_recording(a: &Action) -> bool {
    !matches!(a, Action::Speculate(_))
}

impl Lower<'_> {
    pub(crate) fn action(&mut self, a: &Action) -> R<()> {
        let (kind, values): (RecordKind, Vec<&Expr>) = match a {
            Action::Trace(e) => (RecordKind::Trace, vec![e]),
            Action::Print(e) => (RecordKind::Print, vec![e]),
            Action::Printf(f, args) => (RecordKind::Printf(f.clone()), args.iter().collect()),
            Action::Printa(f, aggs) => (RecordKind::Printa(f.clone(), aggs.clone()), vec![]),
            Action::Exit(e) => (RecordKind::Exit, vec![e]),
            Action::Clear(id) => (RecordKind::Clear(*id), vec![]),
            Action::Trunc(id, n) => (RecordKind::Trunc(*id), n.iter().collect()),
            Action::Normalize(id, n) => (RecordKind::Normalize(*id), vec![n]),
            Action::Denormalize(id) => (RecordKind::Denormalize(*id), vec![]),
            Action::Setopt(n, v) => (RecordKind::Setopt(n.clone(), v.clone()), vec![]),
            Action::Destructive("system", args) => {
                let Some(Expr {
                    kind: crate::ir::ExprKind::Str(fmt),
                    ..
                }) = args.first()
                else {
                    return Err(self.err("system( ) needs a constant format"));
                };
                let fmt = crate::printf::Format::parse(&String::from_utf8_lossy(fmt))
                    .map_err(|e| self.err(e.message))?;
                (RecordKind::System(fmt), args[1..].iter().collect())
            }
            Action::Record(name, args)
                if matches!(
                    *name,
                    "stack"
                        | "ustack"
                        | "sym"
                        | "func"
                        | "mod"
                        | "usym"
                        | "ufunc"
                        | "umod"
                        | "uaddr"
                ) =>
            {
                // As a statement, the value is traced.
                use crate::types::DynType;
                let ty = Type::Dyn(match *name {
                    "stack" => DynType::Stack,
                    "ustack" => DynType::UStack,
                    "sym" | "func" => DynType::Symaddr,
                    "mod" => DynType::Modaddr,
                    "usym" | "ufunc" => DynType::Usymaddr,
                    "umod" => DynType::Umodaddr,
                    _ => DynType::Uaddr,
                });
                let value = Expr {
                    kind: crate::ir::ExprKind::Call(name, args.clone()),
                    ty,
                    span: self.span,
                };
                self.next_action()?;
                let field = self.record_value(&value)?;
                self.push_action(RecordKind::Trace, vec![field]);
                return Ok(());
            }
            Action::Destructive("freopen", args) => {
                let Some(Expr {
                    kind: crate::ir::ExprKind::Str(fmt),
                    ..
                }) = args.first()
                else {
                    return Err(self.err("freopen( ) needs a constant format"));
                };
                let fmt = crate::printf::Format::parse(&String::from_utf8_lossy(fmt))
                    .map_err(|e| self.err(e.message))?;
                (RecordKind::Freopen(fmt), args[1..].iter().collect())
            }
            Action::Destructive(name @ ("raise" | "stop"), args) => {
                // bpf_send_signal: to the process the probe fired in.
                match args.first() {
                    Some(sig) => {
                        self.expr(sig)?;
                        self.asm.push(Insn::mov64_reg(R1, R0));
                    }
                    None => self.asm.push(Insn::mov64_imm(R1, 19)), // SIGSTOP
                }
                let _ = name;
                self.asm.push(Insn::call(helper::SEND_SIGNAL));
                return Ok(());
            }
            Action::Destructive("copyout", args) => {
                // copyout(buf, addr, nbytes): bpf_probe_write_user(addr, buf, n).
                let n = match args.get(2).and_then(Expr::as_const) {
                    Some(n) if (1..=self.lay.strsize as u64).contains(&n) => n,
                    _ => {
                        return Err(self.err(format!(
                            "copyout( ) size must be a constant from 1 to strsize ({})",
                            self.lay.strsize
                        )))
                    }
                };
                self.expr(&args[0])?;
                let buf = self.spill(R0)?;
                self.expr(&args[1])?;
                self.asm.push(Insn::mov64_reg(R1, R0));
                self.unspill(R2, buf);
                self.asm.push(Insn::mov64_imm(R3, n as i32));
                self.asm.push(Insn::call(helper::PROBE_WRITE_USER));
                return Ok(());
            }
            Action::Destructive("copyoutstr", args) => {
                // copyoutstr(str, addr, maxlen): the string and its NUL, at
                // most maxlen bytes (and at most strsize).
                self.expr(&args[0])?;
                self.convert(&args[0].ty, &Type::String)?;
                let s = self.spill(R0)?;
                self.expr(&args[2])?;
                let max = self.spill(R0)?;
                self.expr(&args[1])?;
                let addr = self.spill(R0)?;
                // r4 = strlen(s) + 1, bounded by strsize
                let top = self.asm.label();
                let end = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, R1, FP, s));
                self.asm.push(Insn::mov64_imm(R4, 0));
                self.asm.bind(top);
                self.asm
                    .jmp_imm(Cond::Ge, R4, self.lay.strsize as i32 - 1, end);
                self.asm.push(Insn::mov64_reg(R2, R1));
                self.asm.push(Insn::alu64_reg(Alu::Add, R2, R4));
                self.asm.push(Insn::ldx(Size::B, R2, R2, 0));
                self.asm.jmp_imm(Cond::Eq, R2, 0, end);
                self.asm.push(Insn::alu64_imm(Alu::Add, R4, 1));
                self.asm.ja(top);
                self.asm.bind(end);
                self.asm.push(Insn::alu64_imm(Alu::Add, R4, 1));
                self.asm.push(Insn::ldx(Size::DW, R5, FP, max));
                let keep = self.asm.label();
                self.asm.jmp_reg(Cond::Le, R4, R5, keep);
                self.asm.push(Insn::mov64_reg(R4, R5));
                self.asm.bind(keep);
                let done = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R4, 0, done);
                self.asm
                    .jmp_imm(Cond::Gt, R4, self.lay.strsize as i32, done);
                self.asm.push(Insn::ldx(Size::DW, R1, FP, addr));
                self.asm.push(Insn::ldx(Size::DW, R2, FP, s));
                self.asm.push(Insn::mov64_reg(R3, R4));
                self.asm.push(Insn::call(helper::PROBE_WRITE_USER));
                self.asm.bind(done);
                self.stack -= 24; // s, max, addr
                return Ok(());
            }
            Action::Destructive("chill", _) => {
                return Err(
                    self.err("chill( ) is refused: a BPF program may not spin the CPU it runs on")
                )
            }
            Action::Destructive(name, _) | Action::Record(name, _) => {
                return Err(self.err(format!("{name}( ) is not supported by code generation yet")))
            }
            Action::Tracemem(args) => {
                // tracemem(addr, size): `size` bytes of traced memory, read
                // into the record (a bad address is an invalid-address fault).
                let size = match args.get(1).and_then(Expr::as_const) {
                    Some(n) if (1..=TRACEMEM_MAX as u64).contains(&n) => n as u32,
                    _ => {
                        return Err(self.err(format!(
                            "tracemem( ) size must be a constant from 1 to {TRACEMEM_MAX}"
                        )))
                    }
                };
                self.next_action()?;
                self.expr(&args[0])?;
                let rec = self.lay.record_off;
                let off = self.record_field(size)?;
                self.asm.push(Insn::mov64_reg(R3, R0));
                self.fault_addr(R3);
                self.scratch_ptr(R1, rec + off);
                self.asm.push(Insn::mov64_imm(R2, size as i32));
                self.checked_read(helper::PROBE_READ_KERNEL);
                let field = Field {
                    offset: off,
                    kind: FieldKind::Bytes { size },
                };
                self.push_action(RecordKind::Tracemem, vec![field]);
                return Ok(());
            }
            Action::Speculate(e) => {
                // Divert this clause's record: header.spec = 1 << 63 | id.
                self.expr(e)?;
                self.imm(R1, 1u64 << 63);
                self.asm.push(Insn::alu64_reg(Alu::Or, R0, R1));
                let off = (self.lay.record_off + crate::codegen::layout::HEADER_SPEC) as i16;
                self.asm.push(Insn::stx(Size::DW, R9, off, R0));
                return Ok(());
            }
            Action::Commit(e) | Action::Discard(e) => {
                let kind = if matches!(a, Action::Commit(_)) {
                    RecordKind::Commit
                } else {
                    RecordKind::Discard
                };
                // Free the slot now; the consumer meets this record after
                // every record the speculation made, so a reuse is safe.
                self.expr(e)?;
                let slot = self.spill(R0)?;
                let skip = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R0, 0, skip);
                self.asm.jmp_imm(Cond::Gt, R0, self.lay.nspec as i32, skip);
                self.asm.push(Insn::alu64_imm(Alu::Lsh, R0, 3));
                self.asm.ld_map_value(R1, self.lay.specs, 0);
                self.asm.push(Insn::alu64_reg(Alu::Add, R1, R0));
                self.asm.push(Insn::st(Size::DW, R1, 0, 0));
                self.asm.bind(skip);
                self.unspill(R0, slot);
                (kind, vec![e])
            }
        };
        self.next_action()?;
        let mut fields = Vec::new();
        for v in values {
            fields.push(self.record_value(v)?);
        }
        let exits = matches!(kind, RecordKind::Exit);
        self.push_action(kind, fields);
        if exits {
            // exit() stops tracing at once, in probe context: the clauses
            // after this one and every later firing but END's see the
            // stop word (2: stopped by the program) and do nothing. The
            // record still tells the consumer the status.
            self.asm.ld_map_value(R1, self.lay.control, 0);
            self.asm.push(Insn::st(Size::DW, R1, 0, 2));
        }
        Ok(())
    }

    /// Check there is a mask bit for one more data-recording action (the
    /// clause was given a mask word per 64 actions it holds).
    fn next_action(&self) -> R<()> {
        if self.actions.len() as u32 >= 64 * (1 + self.extra_masks) {
            return Err(self.err("more data-recording actions than the clause was counted to hold"));
        }
        Ok(())
    }

    /// Record that the next action ran (bit `index % 64` of its mask word:
    /// the header's for the first 64, then the words after the header)
    /// and describe it.
    fn push_action(&mut self, kind: RecordKind, fields: Vec<Field>) {
        let index = self.actions.len() as u32;
        let rec = self.lay.record_off as i16;
        let word = match index / 64 {
            0 => rec + 8,
            w => rec + (crate::codegen::layout::HEADER_SIZE + 8 * (w - 1)) as i16,
        };
        self.asm.push(Insn::ldx(Size::DW, R1, R9, word));
        self.imm(R2, 1u64 << (index % 64));
        self.asm.push(Insn::alu64_reg(Alu::Or, R1, R2));
        self.asm.push(Insn::stx(Size::DW, R9, word, R1));
        self.actions.push(RecordAction { kind, fields });
    }

    /// Store r0, a stack buffer pointer or an address, as a field of `kind`
    /// at scratch offset `at` (a record field or a key).
    pub(crate) fn store_dyn(&mut self, kind: FieldKind, at: u32) -> R<()> {
        match kind {
            FieldKind::Stack { .. } => {
                self.asm.push(Insn::mov64_reg(R3, R0));
                self.scratch_ptr(R1, at);
                self.asm
                    .push(Insn::mov64_imm(R2, kind.stored_size() as i32));
                self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
            }
            FieldKind::Addr { user, .. } => {
                self.asm.push(Insn::stx(Size::DW, R9, at as i16, R0));
                if user {
                    self.asm.push(Insn::call(helper::GET_CURRENT_PID_TGID));
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
                    self.asm.push(Insn::stx(Size::DW, R9, at as i16 + 8, R0));
                }
            }
            _ => return Err(self.err("not a stack or address value")),
        }
        Ok(())
    }

    /// Evaluate a value and store it as the next record field.
    fn record_value(&mut self, e: &Expr) -> R<Field> {
        self.expr(e)?;
        let rec = self.lay.record_off;
        if is_stringish(&e.ty) {
            let size = self.lay.strsize;
            let off = self.record_field(size)?;
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.scratch_ptr(R1, rec + off);
            self.asm.push(Insn::mov64_imm(R2, size as i32));
            self.asm.push(Insn::call(helper::PROBE_READ_KERNEL));
            return Ok(Field {
                offset: off,
                kind: FieldKind::Str { size },
            });
        }
        // A struct or union value (a D variable's) is recorded as its
        // bytes; trace() shows them as DTrace does other data (a string
        // if printable, else a hex dump).
        if matches!(e.ty.strip(), Type::Sou(_)) {
            let size = e.ty.size() as u32;
            if size == 0 {
                return Err(self.err(format!("cannot record {}: it has no size", e.ty.name())));
            }
            let off = self.record_field(size)?;
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.scratch_ptr(R1, rec + off);
            self.asm.push(Insn::mov64_imm(R2, size as i32));
            self.fault_addr(R3);
            self.checked_read(helper::PROBE_READ_KERNEL);
            return Ok(Field {
                offset: off,
                kind: FieldKind::Bytes { size },
            });
        }
        if let crate::types::Type::Dyn(_) = e.ty.strip() {
            let kind = crate::codegen::layout::key_kind(&e.ty, &self.lay.sizes);
            let off = self.record_field(kind.stored_size())?;
            self.store_dyn(kind, rec + off)?;
            return Ok(Field { offset: off, kind });
        }
        if !(e.ty.is_integer() || e.ty.is_pointer() || e.ty.is_scalar()) {
            return Err(self.err(format!(
                "recording a value of type {} is not supported yet",
                e.ty.name()
            )));
        }
        let off = self.record_field(8)?;
        self.asm
            .push(Insn::stx(Size::DW, R9, (rec + off) as i16, R0));
        let size = match e.ty.strip() {
            Type::Pointer(_) => 8,
            t => t.size().clamp(1, 8) as u8,
        };
        Ok(Field {
            offset: off,
            kind: FieldKind::Int {
                size,
                signed: e.ty.is_signed(),
            },
        })
    }
}
