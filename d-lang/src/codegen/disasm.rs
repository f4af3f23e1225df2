//! Disassembler: eBPF instructions as text in the kernel verifier's syntax,
//! for `-S` and for tests.

use super::insn::{class, helper, Insn, PSEUDO_MAP_FD, PSEUDO_MAP_VALUE};

fn size_name(code: u8) -> &'static str {
    match code & 0x18 {
        0x10 => "u8",
        0x08 => "u16",
        0x00 => "u32",
        _ => "u64",
    }
}

fn alu_name(op: u8) -> &'static str {
    match op {
        0x00 => "+=",
        0x10 => "-=",
        0x20 => "*=",
        0x30 => "/=",
        0x40 => "|=",
        0x50 => "&=",
        0x60 => "<<=",
        0x70 => ">>=",
        0x90 => "%=",
        0xa0 => "^=",
        0xb0 => "=",
        0xc0 => "s>>=",
        _ => "?=",
    }
}

fn cond_name(op: u8) -> &'static str {
    match op {
        0x10 => "==",
        0x20 => ">",
        0x30 => ">=",
        0x40 => "&",
        0x50 => "!=",
        0x60 => "s>",
        0x70 => "s>=",
        0xa0 => "<",
        0xb0 => "<=",
        0xc0 => "s<",
        0xd0 => "s<=",
        _ => "?",
    }
}

/// One line per instruction (`ld_imm64` takes two slots, one line), each
/// prefixed with its slot index; `map_names` names map references.
pub fn disassemble(insns: &[Insn], map_names: &dyn Fn(i32) -> String) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < insns.len() {
        let n = &insns[i];
        let text = describe(n, insns.get(i + 1), map_names);
        out.push_str(&format!("{i:4}: {text}\n"));
        i += if n.is_ld_imm64() { 2 } else { 1 };
    }
    out
}

fn describe(n: &Insn, next: Option<&Insn>, map_names: &dyn Fn(i32) -> String) -> String {
    let (d, s) = (n.dst, n.src);
    let cls = n.code & 0x07;
    let src_is_reg = n.code & 0x08 != 0;
    match cls {
        class::ALU64 | class::ALU => {
            let op = n.code & 0xf0;
            let w = if cls == class::ALU { "w" } else { "r" };
            if op == 0x80 {
                return format!("{w}{d} = -{w}{d}");
            }
            let signed = n.off == 1 && (op == 0x30 || op == 0x90);
            let opname = match (signed, op) {
                (true, 0x30) => "s/=",
                (true, _) => "s%=",
                _ => alu_name(op),
            };
            if src_is_reg {
                format!("{w}{d} {opname} {w}{s}")
            } else {
                format!("{w}{d} {opname} {}", n.imm)
            }
        }
        class::LDX => format!("r{d} = *({} *)(r{s} {:+})", size_name(n.code), n.off),
        class::STX => format!("*({} *)(r{d} {:+}) = r{s}", size_name(n.code), n.off),
        class::ST => format!("*({} *)(r{d} {:+}) = {}", size_name(n.code), n.off, n.imm),
        class::LD if n.is_ld_imm64() => {
            let hi = next.map_or(0, |x| x.imm as u32 as u64);
            let v = (hi << 32) | n.imm as u32 as u64;
            match s {
                PSEUDO_MAP_FD => format!("r{d} = map[{}]", map_names(n.imm)),
                PSEUDO_MAP_VALUE => format!("r{d} = &map[{}][0] + {hi}", map_names(n.imm)),
                _ => format!("r{d} = {v:#x} ll"),
            }
        }
        class::JMP | class::JMP32 => {
            let op = n.code & 0xf0;
            match op {
                0x00 => format!("goto {:+}", n.off),
                0x80 => format!("call {}#{}", helper::name(n.imm), n.imm),
                0x90 => "exit".to_string(),
                _ => {
                    let rhs = if src_is_reg {
                        format!("r{s}")
                    } else {
                        format!("{:#x}", n.imm)
                    };
                    format!("if r{d} {} {rhs} goto {:+}", cond_name(op), n.off)
                }
            }
        }
        _ => format!("<unknown opcode {:#04x}>", n.code),
    }
}

#[cfg(test)]
mod tests {
    use super::super::insn::{reg::*, Alu, Cond, Size};
    use super::*;

    #[test]
    fn reads_like_the_verifier() {
        let mut v = vec![Insn::mov64_reg(R6, R1), Insn::ldx(Size::W, R0, R6, 16)];
        v.extend(Insn::ld_imm64(R1, PSEUDO_MAP_FD, 3));
        v.push(Insn::alu64_imm(Alu::Add, R0, 1));
        v.push(Insn::jmp_imm(Cond::Eq, R0, 0, 2));
        v.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        v.push(Insn::st(Size::DW, FP, -8, 0));
        v.push(Insn::exit());
        let text = disassemble(&v, &|i| format!("m{i}"));
        let want = "   0: r6 = r1\n   1: r0 = *(u32 *)(r6 +16)\n   2: r1 = map[m3]\n   4: r0 += 1\n   5: if r0 == 0x0 goto +2\n   6: call map_lookup_elem#1\n   7: *(u64 *)(r10 -8) = 0\n   8: exit\n";
        assert_eq!(text, want);
    }
}
