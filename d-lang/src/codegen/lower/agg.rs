//! Aggregation updates: find (or create) this CPU's entry for the key in the
//! aggregation's per-CPU hash, then fold the value in. Layouts are in
//! [`crate::codegen::object`]; bucket rules in [`crate::codegen::buckets`].

use super::{Lower, R};
use crate::codegen::buckets::{QUANTIZE_BUCKETS, QUANTIZE_ZERO};
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::codegen::object::{Counter, FieldKind};
use crate::ir::{AggFunc, AggId, Expr};
use crate::types::Type;

impl Lower<'_> {
    pub(crate) fn agg_update(&mut self, id: AggId, keys: &[Expr], args: &[Expr]) -> R<()> {
        let agg = self
            .lay
            .aggs
            .get(id.0 as usize)
            .cloned()
            .ok_or_else(|| self.err("unknown aggregation"))?;
        // Value and increment first, then keys, all into stack slots.
        let value_slot = match args.first() {
            Some(v) => {
                self.expr(v)?;
                Some(self.spill(R0)?)
            }
            None => None,
        };
        let incr_slot = match args.get(1) {
            Some(v) => {
                self.expr(v)?;
                Some(self.spill(R0)?)
            }
            None => None,
        };
        let mut key_slots = Vec::new();
        for (k, f) in keys.iter().zip(&agg.keys) {
            self.expr(k)?;
            if let FieldKind::Str { .. } = f.kind {
                self.convert(&k.ty, &Type::String)?;
            }
            key_slots.push(self.spill(R0)?);
        }
        let base = self.lay.key_off;
        if agg.keys.is_empty() {
            self.asm.push(Insn::st(Size::DW, R9, base as i16, 0));
        }
        self.write_key(&agg.keys, &key_slots, base);
        self.stack -= 8 * key_slots.len() as i32;

        // r8 = &entry, creating a zeroed entry on first use.
        let have = self.asm.label();
        let done = self.asm.label();
        if agg.array {
            // Slot 0 always exists: mark it used, values start after the mark.
            self.asm.push(Insn::st(Size::W, R9, base as i16, 0));
            self.asm.ld_map(R1, agg.map);
            self.scratch_ptr(R2, self.lay.key_off);
            self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
            self.asm.jmp_imm(Cond::Eq, R0, 0, done);
            self.asm.push(Insn::st(Size::DW, R0, 0, 1));
            self.asm.push(Insn::alu64_imm(Alu::Add, R0, 8));
        } else {
            self.asm.ld_map(R1, agg.map);
            self.scratch_ptr(R2, self.lay.key_off);
            self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
            self.asm.jmp_imm(Cond::Ne, R0, 0, have);
            self.asm.ld_map(R1, agg.map);
            self.scratch_ptr(R2, self.lay.key_off);
            self.asm.ld_map_value(R3, self.lay.strings, 0);
            self.asm.push(Insn::mov64_imm(R4, 1)); // BPF_NOEXIST
            self.asm.push(Insn::call(helper::MAP_UPDATE_ELEM));
            self.asm.ld_map(R1, agg.map);
            self.scratch_ptr(R2, self.lay.key_off);
            self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
            self.asm.jmp_imm(Cond::Ne, R0, 0, have);
            self.count(Counter::AggDrops);
            self.asm.ja(done);
        }
        self.asm.bind(have);
        self.asm.push(Insn::mov64_reg(R8, R0));
        // r1 = value, r2 = increment
        match value_slot {
            Some(s) => self.asm.push(Insn::ldx(Size::DW, R1, FP, s)),
            None => self.asm.push(Insn::mov64_imm(R1, 0)),
        }
        match incr_slot {
            Some(s) => self.asm.push(Insn::ldx(Size::DW, R2, FP, s)),
            None => self.asm.push(Insn::mov64_imm(R2, 1)),
        }
        match &agg.func {
            AggFunc::Count => {
                self.asm.push(Insn::ldx(Size::DW, R3, R8, 0));
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, 1));
                self.asm.push(Insn::stx(Size::DW, R8, 0, R3));
            }
            AggFunc::Sum => self.add_at(R8, 0, R1),
            AggFunc::Avg => {
                self.asm.push(Insn::ldx(Size::DW, R3, R8, 0));
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, 1));
                self.asm.push(Insn::stx(Size::DW, R8, 0, R3));
                self.add_at(R8, 8, R1);
            }
            AggFunc::Min | AggFunc::Max => {
                let set = self.asm.label();
                let skip = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, R3, R8, 0));
                self.asm.jmp_imm(Cond::Eq, R3, 0, set);
                self.asm.push(Insn::ldx(Size::DW, R4, R8, 8));
                let keep = if agg.func == AggFunc::Min {
                    Cond::Sge
                } else {
                    Cond::Sle
                };
                self.asm.jmp_reg(keep, R1, R4, skip);
                self.asm.bind(set);
                self.asm.push(Insn::st(Size::DW, R8, 0, 1));
                self.asm.push(Insn::stx(Size::DW, R8, 8, R1));
                self.asm.bind(skip);
            }
            AggFunc::Stddev => {
                let no_carry = self.asm.label();
                self.asm.push(Insn::ldx(Size::DW, R3, R8, 0));
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, 1));
                self.asm.push(Insn::stx(Size::DW, R8, 0, R3));
                self.add_at(R8, 8, R1);
                // 128-bit sum of squares: lo += v*v; hi += carry.
                self.asm.push(Insn::mov64_reg(R3, R1));
                self.asm.push(Insn::alu64_reg(Alu::Mul, R3, R1));
                self.asm.push(Insn::ldx(Size::DW, R4, R8, 16));
                self.asm.push(Insn::alu64_reg(Alu::Add, R4, R3));
                self.asm.push(Insn::stx(Size::DW, R8, 16, R4));
                self.asm.jmp_reg(Cond::Ge, R4, R3, no_carry);
                self.asm.push(Insn::ldx(Size::DW, R4, R8, 24));
                self.asm.push(Insn::alu64_imm(Alu::Add, R4, 1));
                self.asm.push(Insn::stx(Size::DW, R8, 24, R4));
                self.asm.bind(no_carry);
            }
            AggFunc::Quantize => {
                self.quantize_index();
                self.bucket_add(QUANTIZE_BUCKETS as i32 - 1);
            }
            AggFunc::Lquantize { base, limit, step } => {
                let n = crate::codegen::buckets::lquantize_buckets(*base, *limit, *step) as i32;
                let under = self.asm.label();
                let over = self.asm.label();
                let ready = self.asm.label();
                // r3 = bucket index
                self.imm(R4, *base as i64 as u64);
                self.asm.jmp_reg(Cond::Slt, R1, R4, under);
                self.imm(R4, (*base as i64 + (n as i64 - 2) * *step as i64) as u64);
                self.asm.jmp_reg(Cond::Sge, R1, R4, over);
                self.asm.push(Insn::mov64_reg(R3, R1));
                self.imm(R4, *base as i64 as u64);
                self.asm.push(Insn::alu64_reg(Alu::Sub, R3, R4));
                self.asm.push(Insn::alu64_imm(Alu::Div, R3, *step as i32));
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, 1));
                self.asm.ja(ready);
                self.asm.bind(under);
                self.asm.push(Insn::mov64_imm(R3, 0));
                self.asm.ja(ready);
                self.asm.bind(over);
                self.asm.push(Insn::mov64_imm(R3, n - 1));
                self.asm.bind(ready);
                self.bucket_add(n - 1);
            }
            AggFunc::Llquantize {
                factor,
                low,
                high,
                nsteps,
            } => {
                // r4 = |v| (unsigned), r5 = v < 0; then the bucket by the
                // layout of codegen::buckets::llquantize_rows.
                let (rows, lo, hi) =
                    crate::codegen::buckets::llquantize_rows(*factor, *low, *high, *nsteps);
                let l = rows.len() as i32;
                let pos = self.asm.label();
                let ready = self.asm.label();
                let found = self.asm.label();
                let big = self.asm.label();
                self.asm.push(Insn::mov64_reg(R4, R1));
                self.asm.push(Insn::mov64_imm(R5, 0));
                self.asm.jmp_imm(Cond::Sge, R4, 0, pos);
                self.negate(R4);
                self.asm.push(Insn::mov64_imm(R5, 1));
                self.asm.bind(pos);
                self.asm.push(Insn::mov64_imm(R3, l + 1));
                self.imm(R0, lo as u64);
                self.asm.jmp_reg(Cond::Lt, R4, R0, ready);
                self.imm(R0, hi as u64);
                self.asm.jmp_reg(Cond::Ge, R4, R0, big);
                for (k, row) in rows.iter().enumerate().rev() {
                    let next = self.asm.label();
                    self.imm(R0, *row as u64);
                    self.asm.jmp_reg(Cond::Lt, R4, R0, next);
                    self.asm.push(Insn::mov64_imm(R3, k as i32));
                    self.asm.ja(found);
                    self.asm.bind(next);
                }
                self.asm.push(Insn::mov64_imm(R3, 0));
                self.asm.bind(found);
                // negative rows: L - k; positive rows: L + 2 + k
                let positive = self.asm.label();
                self.asm.jmp_imm(Cond::Eq, R5, 0, positive);
                self.asm.push(Insn::mov64_imm(R0, l));
                self.asm.push(Insn::alu64_reg(Alu::Sub, R0, R3));
                self.asm.push(Insn::mov64_reg(R3, R0));
                self.asm.ja(ready);
                self.asm.bind(positive);
                self.asm.push(Insn::alu64_imm(Alu::Add, R3, l + 2));
                self.asm.ja(ready);
                self.asm.bind(big);
                self.asm.push(Insn::mov64_imm(R3, 0));
                self.asm.jmp_imm(Cond::Ne, R5, 0, ready);
                self.asm.push(Insn::mov64_imm(R3, 2 * l + 2));
                self.asm.bind(ready);
                self.bucket_add(2 * l + 2);
            }
        }
        self.asm.bind(done);
        if incr_slot.is_some() {
            self.stack -= 8;
        }
        if value_slot.is_some() {
            self.stack -= 8;
        }
        Ok(())
    }

    /// *(i64 *)(base + off) += src.
    fn add_at(&mut self, base: u8, off: i16, src: u8) {
        self.asm.push(Insn::ldx(Size::DW, R3, base, off));
        self.asm.push(Insn::alu64_reg(Alu::Add, R3, src));
        self.asm.push(Insn::stx(Size::DW, base, off, R3));
    }

    /// buckets[r3] += r2, with r3 checked against `max` for the verifier.
    fn bucket_add(&mut self, max: i32) {
        let ok = self.asm.label();
        self.asm.jmp_imm(Cond::Le, R3, max, ok);
        self.asm.push(Insn::mov64_imm(R3, max));
        self.asm.bind(ok);
        self.asm.push(Insn::alu64_imm(Alu::Lsh, R3, 3));
        self.asm.push(Insn::alu64_reg(Alu::Add, R3, R8));
        self.asm.push(Insn::ldx(Size::DW, R4, R3, 0));
        self.asm.push(Insn::alu64_reg(Alu::Add, R4, R2));
        self.asm.push(Insn::stx(Size::DW, R3, 0, R4));
    }

    /// r3 = quantize bucket of the signed value in r1 (r4, r5 clobbered).
    fn quantize_index(&mut self) {
        let zero = self.asm.label();
        let neg = self.asm.label();
        let ready = self.asm.label();
        self.asm.jmp_imm(Cond::Eq, R1, 0, zero);
        self.asm.jmp_imm(Cond::Slt, R1, 0, neg);
        // positive: 64 + floor(log2 v)
        self.asm.push(Insn::mov64_reg(R4, R1));
        self.log2(R4, R5);
        self.asm.push(Insn::mov64_reg(R3, R5));
        self.asm
            .push(Insn::alu64_imm(Alu::Add, R3, QUANTIZE_ZERO as i32 + 1));
        self.asm.ja(ready);
        self.asm.bind(neg);
        // negative: 62 - floor(log2 |v|), at least 0
        self.asm.push(Insn::mov64_reg(R4, R1));
        self.negate(R4);
        self.log2(R4, R5);
        self.asm.push(Insn::mov64_imm(R3, QUANTIZE_ZERO as i32 - 1));
        self.asm.push(Insn::alu64_reg(Alu::Sub, R3, R5));
        self.asm.jmp_imm(Cond::Sge, R3, 0, ready);
        self.asm.push(Insn::mov64_imm(R3, 0));
        self.asm.ja(ready);
        self.asm.bind(zero);
        self.asm.push(Insn::mov64_imm(R3, QUANTIZE_ZERO as i32));
        self.asm.bind(ready);
    }

    /// out = floor(log2(x)) for unsigned x > 0, by halving the search.
    fn log2(&mut self, x: u8, out: u8) {
        self.asm.push(Insn::mov64_imm(out, 0));
        for shift in [32, 16, 8, 4, 2, 1] {
            let skip = self.asm.label();
            self.asm.push(Insn::mov64_reg(R0, x));
            self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, shift));
            self.asm.jmp_imm(Cond::Eq, R0, 0, skip);
            self.asm.push(Insn::mov64_reg(x, R0));
            self.asm.push(Insn::alu64_imm(Alu::Add, out, shift));
            self.asm.bind(skip);
        }
    }
}
