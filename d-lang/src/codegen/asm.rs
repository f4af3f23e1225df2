//! An instruction buffer with symbolic labels: jumps are emitted against
//! labels and resolved to relative offsets when the program is finished.

use super::insn::{Cond, Insn, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE};
use super::object::MapReloc;

/// A jump target, bound to an instruction index later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// Instructions being assembled.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
    fixups: Vec<(usize, Label)>,
    relocs: Vec<MapReloc>,
}

/// Why a program could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmError {
    /// A jump spans more than 32767 instructions.
    JumpTooFar,
    /// A label was never bound (a codegen bug).
    Unbound,
    /// More than the kernel's 1,000,000 instructions.
    TooLong(usize),
}

impl Asm {
    /// An empty buffer.
    pub fn new() -> Asm {
        Asm::default()
    }

    /// Append one instruction.
    pub fn push(&mut self, i: Insn) {
        self.insns.push(i);
    }

    /// Append several.
    pub fn extend(&mut self, v: impl IntoIterator<Item = Insn>) {
        self.insns.extend(v);
    }

    /// A new, unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Bind a label to the next instruction.
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.insns.len());
    }

    /// `if dst cond imm goto l`.
    ///
    /// The kernel sign-extends the immediate; rbpf zero-extends it for the
    /// unsigned and equality tests. Negative immediates with those would
    /// make the backends disagree, so they are a code generation bug.
    pub fn jmp_imm(&mut self, cond: Cond, dst: u8, imm: i32, l: Label) {
        debug_assert!(
            imm >= 0 || matches!(cond, Cond::Sgt | Cond::Sge | Cond::Slt | Cond::Sle),
            "jump with negative immediate {imm} under {cond:?}: backends would disagree"
        );
        self.fixups.push((self.insns.len(), l));
        self.insns.push(Insn::jmp_imm(cond, dst, imm, 0));
    }

    /// `if (u32)dst cond (u32)imm goto l`. For programs only the kernel
    /// runs (rbpf lacks JMP32): `net`'s classifier compares addresses and
    /// MAC words, whose top bit is as often set as not.
    pub fn jmp32_imm(&mut self, cond: Cond, dst: u8, imm: i32, l: Label) {
        self.fixups.push((self.insns.len(), l));
        self.insns.push(Insn::jmp32_imm(cond, dst, imm, 0));
    }

    /// `if dst cond src goto l`.
    pub fn jmp_reg(&mut self, cond: Cond, dst: u8, src: u8, l: Label) {
        self.fixups.push((self.insns.len(), l));
        self.insns.push(Insn::jmp_reg(cond, dst, src, 0));
    }

    /// `goto l`.
    pub fn ja(&mut self, l: Label) {
        self.fixups.push((self.insns.len(), l));
        self.insns.push(Insn::ja(0));
    }

    /// `dst = map[map]` (the map pointer, for helper calls).
    pub fn ld_map(&mut self, dst: u8, map: usize) {
        self.relocs.push(MapReloc {
            insn: self.insns.len(),
            map,
        });
        self.insns
            .extend(Insn::ld_imm64(dst, PSEUDO_MAP_FD, map as u64));
    }

    /// `dst = &map[map][0] + off`: a direct pointer into a one-entry array map.
    pub fn ld_map_value(&mut self, dst: u8, map: usize, off: u32) {
        self.relocs.push(MapReloc {
            insn: self.insns.len(),
            map,
        });
        self.insns.extend(Insn::ld_imm64(
            dst,
            PSEUDO_MAP_VALUE,
            ((off as u64) << 32) | map as u64,
        ));
    }

    /// Number of instruction slots so far.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether nothing has been emitted.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Resolve labels; returns the instructions and map relocations.
    pub fn finish(mut self) -> Result<(Vec<Insn>, Vec<MapReloc>), AsmError> {
        for (at, l) in &self.fixups {
            let target = self.labels[l.0].ok_or(AsmError::Unbound)?;
            let off = target as i64 - (*at as i64 + 1);
            self.insns[*at].off = i16::try_from(off).map_err(|_| AsmError::JumpTooFar)?;
        }
        if self.insns.len() > 1_000_000 {
            return Err(AsmError::TooLong(self.insns.len()));
        }
        Ok((self.insns, self.relocs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_resolve_forward_and_back() {
        let mut a = Asm::new();
        let top = a.label();
        let end = a.label();
        a.bind(top);
        a.push(Insn::mov64_imm(0, 1));
        a.jmp_imm(Cond::Eq, 0, 0, end);
        a.ja(top);
        a.bind(end);
        a.push(Insn::exit());
        let (v, _) = a.finish().unwrap();
        assert_eq!(v[1].off, 1);
        assert_eq!(v[2].off, -3);
    }
}
