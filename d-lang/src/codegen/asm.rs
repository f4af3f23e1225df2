//! An instruction buffer with symbolic labels: jumps are emitted against
//! labels and resolved to relative offsets when the program is finished.

use super::insn::{class, Cond, Insn, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE};
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
        self.fall_through_loop_exits()?;
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

/// The opposite test of a conditional jump's operation bits; `None` for
/// `JSET`, which has no opposite, and for what is not a conditional jump.
fn inverted(code: u8) -> Option<u8> {
    let class = code & 0x07;
    if class != class::JMP && class != class::JMP32 {
        return None;
    }
    let op = match code & 0xf0 {
        0x10 => Cond::Ne,
        0x50 => Cond::Eq,
        0x20 => Cond::Le,
        0xb0 => Cond::Gt,
        0x30 => Cond::Lt,
        0xa0 => Cond::Ge,
        0x60 => Cond::Sle,
        0xd0 => Cond::Sgt,
        0x70 => Cond::Slt,
        0xc0 => Cond::Sge,
        _ => return None,
    };
    Some((code & 0x0f) | op as u8)
}

impl Asm {
    /// Rewrite every conditional jump that leaves a loop forwards,
    /// `if c goto out`, as `if !c goto +1; goto out`.
    ///
    /// The kernel's verifier walks a bounded loop one iteration at a time.
    /// At a conditional jump both ways of which are possible it follows
    /// the fall-through and stacks the taken way for later, and it refuses
    /// a program once 8192 ways are stacked ("the sequence of 8192 jumps
    /// is too complex"). A string loop whose exit (a NUL, a match) is the
    /// taken way stacks one state per iteration, so a clause with a dozen
    /// string subroutines over 256-byte strings ran out. With the exit as
    /// the fall-through the verifier walks each exit first and stacks the
    /// next iteration instead: the stack stays as deep as the loops are
    /// nested, and the work done is the same.
    fn fall_through_loop_exits(&mut self) -> Result<(), AsmError> {
        let target = |labels: &[Option<usize>], l: Label| labels[l.0].ok_or(AsmError::Unbound);
        let mut loops = Vec::new();
        for &(at, l) in &self.fixups {
            let t = target(&self.labels, l)?;
            if t <= at {
                loops.push((t, at));
            }
        }
        if loops.is_empty() {
            return Ok(());
        }
        let mut exits = vec![false; self.insns.len()];
        let mut any = false;
        for &(at, l) in &self.fixups {
            let t = target(&self.labels, l)?;
            let leaves = loops
                .iter()
                .any(|&(start, end)| start <= at && at <= end && t > end);
            if leaves && inverted(self.insns[at].code).is_some() {
                exits[at] = true;
                any = true;
            }
        }
        if !any {
            return Ok(());
        }
        let fixup_at: std::collections::HashMap<usize, Label> =
            self.fixups.iter().map(|&(at, l)| (at, l)).collect();
        let mut insns = Vec::with_capacity(self.insns.len() + exits.len() / 8);
        let mut fixups = Vec::with_capacity(self.fixups.len());
        let mut moved = Vec::with_capacity(self.insns.len() + 1);
        for (i, insn) in self.insns.iter().enumerate() {
            moved.push(insns.len());
            match (exits[i], fixup_at.get(&i)) {
                (true, Some(&l)) => {
                    let code = inverted(insn.code).unwrap_or(insn.code);
                    insns.push(Insn {
                        code,
                        off: 1,
                        ..*insn
                    });
                    fixups.push((insns.len(), l));
                    insns.push(Insn::ja(0));
                }
                (_, Some(&l)) => {
                    fixups.push((insns.len(), l));
                    insns.push(*insn);
                }
                (_, None) => insns.push(*insn),
            }
        }
        moved.push(insns.len());
        for bound in self.labels.iter_mut().flatten() {
            *bound = moved[*bound];
        }
        for r in &mut self.relocs {
            r.insn = moved[r.insn];
        }
        self.insns = insns;
        self.fixups = fixups;
        Ok(())
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
        // The loop's exit became `if r0 != 0 goto +1; goto end`.
        assert_eq!(v[1].code & 0xf0, Cond::Ne as u8);
        assert_eq!((v[1].off, v[2].off), (1, 1));
        assert_eq!(v[3].off, -4);
    }

    #[test]
    fn loop_exits_become_fall_throughs() {
        let mut a = Asm::new();
        let top = a.label();
        let out = a.label();
        a.push(Insn::mov64_imm(1, 0));
        a.bind(top);
        a.jmp_imm(Cond::Ge, 1, 8, out); // the loop's bound
        a.jmp_imm(Cond::Set, 2, 1, out); // JSET: left alone
        a.push(Insn::alu64_imm(super::super::insn::Alu::Add, 1, 1));
        a.ja(top);
        a.bind(out);
        a.jmp_imm(Cond::Eq, 1, 0, top); // not inside the loop it jumps to
        a.push(Insn::exit());
        let (v, _) = a.finish().unwrap();
        // if r1 < 8 goto +1; goto out
        assert_eq!(v[1].code & 0xf0, Cond::Lt as u8);
        assert_eq!(v[1].off, 1);
        assert_eq!((v[2].code, v[2].off), (Insn::ja(0).code, 3));
        assert_eq!(v[3].code & 0xf0, Cond::Set as u8);
        assert_eq!(v[3].off, 2);
        assert_eq!(v[5].off, -5);
        assert_eq!(v[6].code & 0xf0, Cond::Eq as u8);
        assert_eq!(v[6].off, -6);
    }
}
