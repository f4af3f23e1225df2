//! Lowering: one program per enabled probe, holding every clause that
//! enables it in program order.
//!
//! Program shape (comments in the emitted runs repeat it):
//! ```text
//! r6 = ctx; r9 = &scratch[cpu]          ; prologue, exits if the lookup fails
//! for each clause:
//!     mask = 0                          ; only if the clause records data
//!     if !(predicate) goto next
//!     statements                        ; values in r0, temporaries on the stack
//!     if mask == 0 goto next            ; the default action always records
//!     header = {epid, cpu}; ringbuf_output(record)
//! next:
//! r0 = 0; exit
//! ```
//! Registers: r6 context, r9 scratch base, r0 the value of the expression
//! just evaluated, r1–r5 and r7–r8 free between expressions; spilled
//! values live in 8-byte stack slots below `fp - 8` (`fp - 8` holds the
//! zero key).

mod action;
mod agg;
mod args;
mod builtin_vars;
mod expr;
mod inet;
mod kernel_memory;
mod memory;
mod operators;
mod paths;
mod store;
mod strconv;
mod strings;
mod subr;

use super::asm::{Asm, Label};
use super::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use super::layout::{Layout, HEADER_SIZE, RECORD_MAX, STRING_TEMPS};
use super::object::{Counter, Enabling, MapSpec, Object, ProgramObj, RecordAction};
use super::target::{ProbeTarget, TargetResolver};
use super::CodegenOptions;
use crate::catalog::ProbeInfo;
use crate::diag::{Diagnostic, ErrTag};
use crate::ir::{self, Program};
use crate::span::Span;
use crate::types::Type;
use std::collections::HashMap;

type R<T> = Result<T, Diagnostic>;

/// String constants: each gets `strsize` zero-padded bytes, so that copying
/// a whole string from here never reads another constant. Offset 0 is a
/// zero block: the empty string and the initial aggregation value.
pub(crate) struct StrTab {
    bytes: Vec<u8>,
    index: HashMap<Vec<u8>, u32>,
    strsize: u32,
}

impl StrTab {
    fn new(strsize: u32, zero_block: u32) -> StrTab {
        let zero = zero_block.max(strsize).div_ceil(8) * 8;
        let mut index = HashMap::new();
        index.insert(Vec::new(), 0);
        StrTab {
            bytes: vec![0; zero as usize],
            index,
            strsize,
        }
    }

    /// The offset of a constant, adding it if new (truncated to strsize − 1).
    pub(crate) fn intern(&mut self, s: &[u8]) -> u32 {
        let end = s
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(s.len())
            .min(self.strsize as usize - 1);
        let s = &s[..end];
        if let Some(&off) = self.index.get(s) {
            return off;
        }
        let off = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s);
        self.bytes.resize(off as usize + self.strsize as usize, 0);
        self.index.insert(s.to_vec(), off);
        off
    }
}

/// Generate every program of `prog`.
pub(crate) fn lower_program(
    prog: &Program,
    layout: &Layout,
    targets: &dyn TargetResolver,
    opts: &CodegenOptions,
) -> R<Object> {
    // EPIDs number (clause, probe) pairs in clause order, as DTrace creates
    // its enablings; programs group clauses by probe in first-use order.
    let mut order: Vec<u32> = Vec::new();
    let mut by_probe: HashMap<u32, (ProbeInfo, Vec<(usize, u32)>)> = HashMap::new();
    let mut next_epid = 1;
    for (ci, c) in prog.clauses.iter().enumerate() {
        for p in &c.probes {
            let entry = by_probe.entry(p.id).or_insert_with(|| {
                order.push(p.id);
                (p.clone(), Vec::new())
            });
            entry.1.push((ci, next_epid));
            next_epid += 1;
        }
    }
    // Each description of a clause is a statement of its own, as in
    // DTrace: the statement that fired is the first description naming
    // the probe (aligned as -n aligns them).
    let mut first_statement = Vec::with_capacity(prog.clauses.len());
    let mut statements = 0u32;
    for c in &prog.clauses {
        first_statement.push(statements);
        statements += c.descs.len().max(1) as u32;
    }
    let statement_of = |ci: usize, probe: &ProbeInfo| -> u32 {
        let within = prog.clauses[ci]
            .descs
            .iter()
            .position(|d| {
                crate::catalog::ProbeDesc::parse(d, crate::catalog::DescField::Name)
                    .is_ok_and(|d| d.matches(probe))
            })
            .unwrap_or(0);
        first_statement[ci] + within as u32
    };
    let mut strtab = StrTab::new(opts.strsize, layout.max_agg_value);
    let mut programs = Vec::new();
    let mut enablings = Vec::new();
    for id in order {
        let (probe, clauses) = &by_probe[&id];
        let variants = targets.targets(probe).map_err(|why| {
            let span = clauses.first().map(|&(c, _)| prog.clauses[c].span);
            Diagnostic::new(
                ErrTag::D_PDESC_INVAL,
                span,
                format!("cannot trace {}: {why}", probe.full_name()),
            )
        })?;
        // The records a probe's clauses emit are the same whatever its
        // target: every variant's program writes them, and they are
        // described once, from the first.
        for (variant, target) in variants.iter().enumerate() {
            let mut l = Lower::new(targets, layout, probe, target, &mut strtab);
            l.prologue()?;
            let mut epids = Vec::new();
            for &(ci, epid) in clauses {
                let actions = l.clause(&prog.clauses[ci], epid).map_err(|mut d| {
                    d.program = prog.clauses[ci].program;
                    d
                })?;
                if variant == 0 {
                    enablings.push(Enabling {
                        epid,
                        clause: ci,
                        statement: statement_of(ci, probe),
                        probe: probe.clone(),
                        size: l.record_size,
                        mask_words: 1 + l.extra_masks,
                        actions,
                    });
                }
                epids.push(epid);
            }
            l.epilogue();
            let prog_type = target.prog_type;
            let (insns, relocs) = l.asm.finish().map_err(|e| {
                Diagnostic::new(
                    ErrTag::D_UNSUPPORTED,
                    None,
                    format!(
                        "program for {} cannot be assembled: {e:?}",
                        probe.full_name()
                    ),
                )
            })?;
            programs.push(ProgramObj {
                probe: probe.clone(),
                prog_type,
                insns,
                relocs,
                epids,
                variant: variant as u32,
            });
        }
    }
    enablings.sort_by_key(|e| e.epid);
    let mut maps: Vec<MapSpec> = layout.maps.clone();
    let strings = &mut maps[layout.strings];
    strings.value_size = strtab.bytes.len() as u32;
    strings.initial = Some(strtab.bytes);
    Ok(Object {
        maps,
        programs,
        enablings,
        aggs: layout.aggs.clone(),
        strsize: opts.strsize,
        statements,
    })
}

/// Lowering state for one probe's program.
pub(crate) struct Lower<'a> {
    targets: &'a dyn TargetResolver,
    lay: &'a Layout,
    probe: &'a ProbeInfo,
    target: &'a ProbeTarget,
    strtab: &'a mut StrTab,
    asm: Asm,
    exit: Label,
    /// Bytes of stack slots in use below the zero key.
    stack: i32,
    /// String temporaries handed out in the current statement.
    temps: u32,
    /// Bytes at the top of the temporaries' area given to memory that
    /// lives for the whole program (alloca, copyin, strtok's state); see
    /// [`Lower::reserve`].
    reserved: u32,
    /// Scratch offset of strtok( )'s saved position and string, once a
    /// clause uses strtok( ).
    strtok_state: Option<u32>,
    /// Next free record offset and the actions recorded so far.
    record_size: u32,
    actions: Vec<RecordAction>,
    epid: u32,
    /// Scalar thread-locals already loaded in this clause, and the stack
    /// slot holding each value (see [`CACHE_SLOTS`]).
    cache: Vec<(crate::ir::VarId, i16)>,
    /// Depth of conditional code (if branches, ?: arms, the right of && and
    /// ||): only loads made outside it dominate the rest of the clause.
    cond_depth: u32,
    span: Span,
    /// The current clause's fault block, once a fault site needs it.
    fault: Option<Label>,
    /// 1-based number of the statement being lowered (0: the predicate),
    /// DTrace's "action #N" of run-time errors.
    action_no: u32,
    /// Action-mask words the clause's record has beyond the header's
    /// (one per 64 data-recording actions after the first 64).
    extra_masks: u32,
}

impl<'a> Lower<'a> {
    fn new(
        targets: &'a dyn TargetResolver,
        lay: &'a Layout,
        probe: &'a ProbeInfo,
        target: &'a ProbeTarget,
        strtab: &'a mut StrTab,
    ) -> Self {
        let mut asm = Asm::new();
        let exit = asm.label();
        Lower {
            targets,
            lay,
            probe,
            target,
            strtab,
            asm,
            exit,
            // fp-8: zero key; fp-16: the thread id; then the
            // thread-local cache slots; spills below.
            stack: 16 + 8 * CACHE_SLOTS as i32,
            temps: 0,
            reserved: 0,
            strtok_state: None,
            record_size: HEADER_SIZE,
            actions: Vec::new(),
            epid: 0,
            cache: Vec::new(),
            cond_depth: 0,
            span: Span::default(),
            fault: None,
            action_no: 0,
            extra_masks: 0,
        }
    }

    fn err(&self, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(ErrTag::D_UNSUPPORTED, Some(self.span), msg)
    }

    /// r6 = ctx; r9 = per-CPU scratch (or exit). Every probe but END and
    /// ERROR first checks the consumer's stop flag, so nothing changes
    /// while END runs and the final aggregations are read.
    fn prologue(&mut self) -> R<()> {
        self.asm.push(Insn::mov64_reg(R6, R1));
        // timestamp is read once per firing ([`Lower::timestamp`]).
        self.asm.push(Insn::st(Size::DW, FP, TIMESTAMP_SLOT, 0));
        let p = self.probe;
        if !(p.provider == "dtrace" && (p.name == "END" || p.name == "ERROR")) {
            let exit = self.exit;
            self.asm.ld_map_value(R1, self.lay.control, 0);
            self.asm.push(Insn::ldx(Size::DW, R1, R1, 0));
            self.asm.jmp_imm(Cond::Ne, R1, 0, exit);
        }
        // Thread-local variables are keyed by thread id: read it once.
        if self
            .lay
            .vars
            .values()
            .any(|v| matches!(v, super::layout::VarStorage::Dynamic { thread: true, .. }))
        {
            self.asm.push(Insn::call(helper::GET_CURRENT_PID_TGID));
            self.asm.push(Insn::mov32_reg(R0, R0));
            self.asm.push(Insn::stx(Size::DW, FP, TID_SLOT, R0));
        }
        // Probes sharing a tracepoint differ by a field: skip other firings.
        // Filters on kernel objects the record points to are read at the
        // start of each clause ([`Lower::via_filters`]), where a fault in
        // their reads is reported as any other.
        let direct: Vec<_> = self
            .target
            .filters
            .iter()
            .filter(|f| f.via.is_none())
            .cloned()
            .collect();
        for f in direct {
            let exit = self.exit;
            self.asm
                .push(Insn::ldx(Size::of(f.size as u64), R1, R6, f.offset as i16));
            if f.signed && f.size < 8 {
                let shift = 64 - f.size as i32 * 8;
                self.asm.push(Insn::alu64_imm(Alu::Lsh, R1, shift));
                self.asm.push(Insn::alu64_imm(Alu::Arsh, R1, shift));
            }
            self.imm(R2, f.value as u64);
            use super::target::FilterCmp;
            if matches!(f.cmp, FilterCmp::AllClear | FilterCmp::AnySet) {
                self.asm.push(Insn::alu64_reg(Alu::And, R1, R2));
                let fail = if f.cmp == FilterCmp::AllClear {
                    Cond::Ne
                } else {
                    Cond::Eq
                };
                self.asm.jmp_imm(fail, R1, 0, exit);
                continue;
            }
            // Jump to exit when the condition fails.
            let fail = match (f.cmp, f.signed) {
                (FilterCmp::Eq, _) => Cond::Ne,
                (FilterCmp::Ne, _) => Cond::Eq,
                (FilterCmp::Lt, true) => Cond::Sge,
                (FilterCmp::Lt, false) => Cond::Ge,
                (FilterCmp::Ge, true) => Cond::Slt,
                (FilterCmp::Ge, false) => Cond::Lt,
                (FilterCmp::AllClear | FilterCmp::AnySet, _) => unreachable!("handled above"),
            };
            self.asm.jmp_reg(fail, R1, R2, exit);
        }
        self.asm.push(Insn::st(Size::DW, FP, -8, 0));
        self.asm.ld_map(R1, self.lay.scratch);
        self.asm.push(Insn::mov64_reg(R2, FP));
        self.asm.push(Insn::alu64_imm(Alu::Add, R2, -8));
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        let exit = self.exit;
        self.asm.jmp_imm(Cond::Eq, R0, 0, exit);
        self.asm.push(Insn::mov64_reg(R9, R0));
        // Nothing is alloca'd yet in this firing.
        self.asm
            .push(Insn::st(Size::DW, R9, self.lay.alloca_top_off as i16, 0));
        Ok(())
    }

    fn epilogue(&mut self) {
        let exit = self.exit;
        self.asm.bind(exit);
        self.asm.push(Insn::mov64_imm(R0, 0));
        self.asm.push(Insn::exit());
    }

    /// The probe's filters on kernel objects its record points to
    /// (`skb->dev->rx_handler`…): when one fails, go to `skip`.
    fn via_filters(&mut self, skip: crate::codegen::asm::Label) -> R<()> {
        use super::target::FilterCmp;
        let via: Vec<_> = self
            .target
            .filters
            .iter()
            .filter(|f| f.via.is_some())
            .cloned()
            .collect();
        for f in via {
            let Some(src) = f.via.clone() else { continue };
            self.temps = 0;
            self.arg(Some(*src), &crate::types::int(f.size.clamp(1, 8), f.signed))?;
            self.imm(R2, f.value as u64);
            let fail = match (f.cmp, f.signed) {
                (FilterCmp::Eq, _) => Cond::Ne,
                (FilterCmp::Ne, _) => Cond::Eq,
                (FilterCmp::Lt, true) => Cond::Sge,
                (FilterCmp::Lt, false) => Cond::Ge,
                (FilterCmp::Ge, true) => Cond::Slt,
                (FilterCmp::Ge, false) => Cond::Lt,
                (FilterCmp::AllClear | FilterCmp::AnySet, _) => {
                    self.asm.push(Insn::alu64_reg(Alu::And, R0, R2));
                    let fail = if f.cmp == FilterCmp::AllClear {
                        Cond::Ne
                    } else {
                        Cond::Eq
                    };
                    self.asm.jmp_imm(fail, R0, 0, skip);
                    continue;
                }
            };
            self.asm.jmp_reg(fail, R0, R2, skip);
        }
        Ok(())
    }

    /// How many data-recording actions a clause's statements hold, at most
    /// (both ways of an `if` count).
    fn count_actions(stmts: &[ir::Stmt]) -> u32 {
        stmts
            .iter()
            .map(|s| match s {
                ir::Stmt::Action(a) => u32::from(action::is_recording(a)),
                ir::Stmt::If(_, a, b) => Self::count_actions(a) + Self::count_actions(b),
                _ => 0,
            })
            .sum()
    }

    /// Whether a clause's statements include a data-recording action.
    fn records(stmts: &[ir::Stmt]) -> bool {
        stmts.iter().any(|s| match s {
            ir::Stmt::Action(a) => action::is_recording(a),
            ir::Stmt::If(_, a, b) => Self::records(a) || Self::records(b),
            _ => false,
        })
    }

    fn clause(&mut self, c: &ir::Clause, epid: u32) -> R<Vec<RecordAction>> {
        self.epid = epid;
        self.span = c.span;
        self.cache.clear();
        self.cond_depth = 0;
        self.actions = Vec::new();
        // Actions past the 64 the header's mask word covers get more mask
        // words, right after the header.
        self.extra_masks = Self::count_actions(&c.body).saturating_sub(1) / 64;
        self.record_size = HEADER_SIZE + 8 * self.extra_masks;
        let next = self.asm.label();
        let records = c.default_action || Self::records(&c.body);
        let rec = self.lay.record_off as i16;
        if records {
            // mask = 0, speculation = 0
            self.asm.push(Insn::st(Size::DW, R9, rec + 8, 0));
            for w in 0..self.extra_masks {
                let off = rec + (HEADER_SIZE + 8 * w) as i16;
                self.asm.push(Insn::st(Size::DW, R9, off, 0));
            }
            self.asm.push(Insn::st(
                Size::DW,
                R9,
                rec + super::layout::HEADER_SPEC as i16,
                0,
            ));
        }
        self.fault = None;
        self.action_no = 0;
        // A clause after one that called exit() in this firing does not
        // run (the prologue stops later firings); END's and ERROR's do.
        let p = self.probe;
        if !(p.provider == "dtrace" && (p.name == "END" || p.name == "ERROR")) {
            self.asm.ld_map_value(R1, self.lay.control, 0);
            self.asm.push(Insn::ldx(Size::DW, R1, R1, 0));
            self.asm.jmp_imm(Cond::Ne, R1, 0, next);
        }
        self.via_filters(next)?;
        if let Some(p) = &c.predicate {
            self.temps = 0;
            self.expr(p)?;
            self.asm.jmp_imm(Cond::Eq, R0, 0, next);
        }
        self.stmts(&c.body)?;
        if records {
            self.asm.push(Insn::ldx(Size::DW, R1, R9, rec + 8));
            if !c.default_action {
                self.asm.jmp_imm(Cond::Eq, R1, 0, next);
            }
            // header: epid, cpu
            self.asm.push(Insn::st(Size::W, R9, rec, epid as i32));
            self.asm.push(Insn::call(helper::GET_SMP_PROCESSOR_ID));
            self.asm.push(Insn::stx(Size::W, R9, rec + 4, R0));
            self.asm.ld_map(R1, self.lay.ringbuf);
            self.scratch_ptr(R2, self.lay.record_off);
            self.asm.push(Insn::mov64_imm(R3, self.record_size as i32));
            self.asm.push(Insn::mov64_imm(R4, 0));
            self.asm.push(Insn::call(helper::RINGBUF_OUTPUT));
            self.asm.jmp_imm(Cond::Eq, R0, 0, next);
            self.count(Counter::RecordDrops);
        }
        if let Some(fault) = self.fault.take() {
            // A fault abandons the clause and reports it: the error record
            // (EPID 0) carries what the consumer prints and ERROR receives.
            self.asm.ja(next);
            self.asm.bind(fault);
            let off = self.lay.error_off as i16;
            self.asm.push(Insn::st(Size::W, R9, off, 0));
            self.asm.push(Insn::call(helper::GET_SMP_PROCESSOR_ID));
            self.asm.push(Insn::stx(Size::W, R9, off + 4, R0));
            self.asm.push(Insn::st(Size::DW, R9, off + 8, epid as i32));
            self.asm.ld_map(R1, self.lay.ringbuf);
            self.scratch_ptr(R2, self.lay.error_off);
            self.asm
                .push(Insn::mov64_imm(R3, super::layout::ERROR_RECORD_SIZE as i32));
            self.asm.push(Insn::mov64_imm(R4, 0));
            self.asm.push(Insn::call(helper::RINGBUF_OUTPUT));
            self.asm.jmp_imm(Cond::Eq, R0, 0, next);
            self.count(Counter::RecordDrops);
        }
        self.asm.bind(next);
        Ok(std::mem::take(&mut self.actions))
    }

    /// Raise `fault` in the current action: record its number, the code and
    /// this instruction's index, and abandon the clause. The address (for
    /// [`Fault::BadAddr`]) must already be at `error_off + 32`.
    fn raise(&mut self, fault: super::object::Fault) {
        let off = self.lay.error_off as i16;
        let pc = self.asm.len() as i32;
        self.asm
            .push(Insn::st(Size::DW, R9, off + 16, self.action_no as i32));
        self.asm
            .push(Insn::st(Size::DW, R9, off + 24, fault as u64 as i32));
        self.asm.push(Insn::st(Size::DW, R9, off + 40, pc));
        let label = match self.fault {
            Some(l) => l,
            None => {
                let l = self.asm.label();
                self.fault = Some(l);
                l
            }
        };
        self.asm.ja(label);
    }

    /// Note the address a checked read is about to use, for [`Self::raise`].
    fn fault_addr(&mut self, r: u8) {
        let off = self.lay.error_off as i16;
        self.asm.push(Insn::stx(Size::DW, R9, off + 32, r));
    }

    /// Call probe-read helper `read` (its arguments set, the address noted
    /// by [`Self::fault_addr`]); a failed read raises the invalid-address
    /// fault.
    fn checked_read(&mut self, read: i32) {
        self.asm.push(Insn::call(read));
        let ok = self.asm.label();
        self.asm.jmp_imm(Cond::Sge, R0, 0, ok);
        self.raise(super::object::Fault::BadAddr);
        self.asm.bind(ok);
    }

    fn stmts(&mut self, stmts: &[ir::Stmt]) -> R<()> {
        for s in stmts {
            self.temps = 0;
            self.action_no += 1;
            match s {
                ir::Stmt::Expr(e) => self.expr(e)?,
                ir::Stmt::If(c, a, b) => {
                    let els = self.asm.label();
                    let end = self.asm.label();
                    self.expr(c)?;
                    self.asm.jmp_imm(Cond::Eq, R0, 0, els);
                    self.cond_depth += 1;
                    self.stmts(a)?;
                    self.asm.ja(end);
                    self.asm.bind(els);
                    self.stmts(b)?;
                    self.cond_depth -= 1;
                    self.asm.bind(end);
                }
                ir::Stmt::AggUpdate {
                    agg,
                    keys,
                    args,
                    span,
                } => {
                    self.span = *span;
                    self.agg_update(*agg, keys, args)?;
                }
                ir::Stmt::Action(a) => self.action(a)?,
            }
        }
        Ok(())
    }

    /// `dst = r9 + off`: a pointer into scratch.
    fn scratch_ptr(&mut self, dst: u8, off: u32) {
        self.asm.push(Insn::mov64_reg(dst, R9));
        self.asm.push(Insn::alu64_imm(Alu::Add, dst, off as i32));
    }

    /// Save a register in a new stack slot; returns the slot's fp offset.
    fn spill(&mut self, r: u8) -> R<i16> {
        self.stack += 8;
        if self.stack > 480 {
            return Err(self.err("expression too complex: more than 60 intermediate values"));
        }
        let off = -(8 + self.stack) as i16;
        self.asm.push(Insn::stx(Size::DW, FP, off, r));
        Ok(off)
    }

    /// `r = -r` as `~r + 1`: the same two's complement as BPF's negation,
    /// which rbpf's interpreter does not wrap (it panics on `-i64::MIN`).
    pub(crate) fn negate(&mut self, r: u8) {
        self.asm.push(Insn::alu64_imm(Alu::Xor, r, -1));
        self.asm.push(Insn::alu64_imm(Alu::Add, r, 1));
    }

    /// Load a spilled value back and free its slot (slots are released LIFO).
    fn unspill(&mut self, r: u8, slot: i16) {
        self.asm.push(Insn::ldx(Size::DW, r, FP, slot));
        self.stack -= 8;
    }

    /// A string temporary in scratch, zeroed so strings compare and hash
    /// as their contents.
    fn str_temp(&mut self) -> R<u32> {
        let area = STRING_TEMPS * self.lay.strsize - self.reserved;
        if (self.temps + 1) * self.lay.strsize > area {
            let n = area / self.lay.strsize;
            let why = if self.reserved > 0 {
                format!(
                    " ({} bytes of scratch are held by alloca( ), copyin( ) or strtok( ))",
                    self.reserved
                )
            } else {
                String::new()
            };
            return Err(self.err(format!(
                "statement needs more than {n} string temporaries{why}"
            )));
        }
        let off = self.lay.temps_off + self.temps * self.lay.strsize;
        self.temps += 1;
        self.zero_scratch(off, self.lay.strsize);
        Ok(off)
    }

    pub(crate) fn zero_scratch(&mut self, off: u32, len: u32) {
        for i in (0..len).step_by(8) {
            self.asm.push(Insn::st(Size::DW, R9, (off + i) as i16, 0));
        }
    }

    /// counters[c] += 1 (per CPU).
    fn count(&mut self, c: Counter) {
        let skip = self.asm.label();
        self.asm.ld_map(R1, self.lay.counters);
        self.asm.push(Insn::mov64_reg(R2, FP));
        self.asm.push(Insn::alu64_imm(Alu::Add, R2, -8));
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        self.asm.jmp_imm(Cond::Eq, R0, 0, skip);
        let off = (c as i16) * 8;
        self.asm.push(Insn::ldx(Size::DW, R1, R0, off));
        self.asm.push(Insn::alu64_imm(Alu::Add, R1, 1));
        self.asm.push(Insn::stx(Size::DW, R0, off, R1));
        self.asm.bind(skip);
    }

    /// Reserve a record field; returns its offset in the record.
    fn record_field(&mut self, bytes: u32) -> R<u32> {
        let off = self.record_size;
        self.record_size += bytes.div_ceil(8) * 8;
        if self.record_size > RECORD_MAX {
            return Err(self.err(format!("clause records more than {RECORD_MAX} bytes")));
        }
        Ok(off)
    }

    /// Load a 64-bit immediate into a register.
    fn imm(&mut self, r: u8, v: u64) {
        if v as i64 >= i32::MIN as i64 && v as i64 <= i32::MAX as i64 {
            self.asm.push(Insn::mov64_imm(r, v as i64 as i32));
        } else {
            self.asm.extend(Insn::ld_imm64(r, 0, v));
        }
    }

    /// Bring `r` to the canonical 64-bit form of an integer of type `ty`.
    fn normalize(&mut self, r: u8, ty: &Type) {
        let size = if ty.is_integer() { ty.int_size() } else { 8 };
        if size >= 8 || size == 0 {
            return;
        }
        let shift = 64 - size as i32 * 8;
        if !ty.is_signed() && size == 4 {
            self.asm.push(Insn::mov32_reg(r, r));
            return;
        }
        self.asm.push(Insn::alu64_imm(Alu::Lsh, r, shift));
        let op = if ty.is_signed() { Alu::Arsh } else { Alu::Rsh };
        self.asm.push(Insn::alu64_imm(op, r, shift));
    }
}

/// Stack slot holding the current thread id (read once per firing).
pub(crate) const TID_SLOT: i16 = -16;

/// Stack slot holding `timestamp` once a firing has read it (0 before):
/// below the cached thread-locals' slots.
pub(crate) const TIMESTAMP_SLOT: i16 = TID_SLOT - 8 * (CACHE_SLOTS as i16 + 1);

/// How many scalar thread-locals a clause keeps loaded (in the stack slots
/// below [`TID_SLOT`]), so that `/self->ts/ { … timestamp - self->ts … }`
/// looks the variable up once.
pub(crate) const CACHE_SLOTS: usize = 6;

/// Whether values of this type are handled as pointers to strsize buffers.
pub(crate) fn is_stringish(ty: &Type) -> bool {
    ty.is_string() || matches!(ty.strip(), Type::Array(e, _) if e.int_size() == 1)
}
