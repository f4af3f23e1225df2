//! eBPF instructions: the 8-byte encoding, constructors named after what
//! they do, and the helper function IDs codegen calls.

/// One eBPF instruction slot (`ld_imm64` takes two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode: class | size/op | mode/source.
    pub code: u8,
    /// Destination register (0–10).
    pub dst: u8,
    /// Source register (0–10), or a pseudo-source for `ld_imm64`.
    pub src: u8,
    /// Signed offset (memory displacement or jump distance).
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

/// Registers. r0 return value, r1–r5 arguments (clobbered by calls),
/// r6–r9 callee-saved, r10 read-only frame pointer.
#[allow(missing_docs)]
pub mod reg {
    pub const R0: u8 = 0;
    pub const R1: u8 = 1;
    pub const R2: u8 = 2;
    pub const R3: u8 = 3;
    pub const R4: u8 = 4;
    pub const R5: u8 = 5;
    pub const R6: u8 = 6;
    pub const R7: u8 = 7;
    pub const R8: u8 = 8;
    pub const R9: u8 = 9;
    pub const FP: u8 = 10;
}

/// Instruction classes.
#[allow(missing_docs)]
pub mod class {
    pub const LD: u8 = 0x00;
    pub const LDX: u8 = 0x01;
    pub const ST: u8 = 0x02;
    pub const STX: u8 = 0x03;
    pub const ALU: u8 = 0x04;
    pub const JMP: u8 = 0x05;
    pub const JMP32: u8 = 0x06;
    pub const ALU64: u8 = 0x07;
}

/// Memory access sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1 byte.
    B = 0x10,
    /// 2 bytes.
    H = 0x08,
    /// 4 bytes.
    W = 0x00,
    /// 8 bytes.
    DW = 0x18,
}

impl Size {
    /// The size for an access of `bytes` (1, 2, 4 or 8).
    pub fn of(bytes: u64) -> Size {
        match bytes {
            1 => Size::B,
            2 => Size::H,
            4 => Size::W,
            _ => Size::DW,
        }
    }

    /// Bytes accessed.
    pub fn bytes(self) -> u64 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// ALU operations (upper nibble of the opcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Alu {
    Add = 0x00,
    Sub = 0x10,
    Mul = 0x20,
    Div = 0x30,
    Or = 0x40,
    And = 0x50,
    Lsh = 0x60,
    Rsh = 0x70,
    Neg = 0x80,
    Mod = 0x90,
    Xor = 0xa0,
    Mov = 0xb0,
    Arsh = 0xc0,
}

/// Jump conditions (upper nibble of the opcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Cond {
    Always = 0x00,
    Eq = 0x10,
    Gt = 0x20,
    Ge = 0x30,
    Set = 0x40,
    Ne = 0x50,
    Sgt = 0x60,
    Sge = 0x70,
    Lt = 0xa0,
    Le = 0xb0,
    Slt = 0xc0,
    Sle = 0xd0,
}

const K: u8 = 0x00;
const X: u8 = 0x08;
const MEM: u8 = 0x60;
const IMM: u8 = 0x00;
const CALL: u8 = 0x80;
const EXIT: u8 = 0x90;

/// `ld_imm64` pseudo-source: the immediate is a map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `ld_imm64` pseudo-source: map fd plus an offset into its (single) value.
pub const PSEUDO_MAP_VALUE: u8 = 2;

/// Kernel helper function IDs (`enum bpf_func_id`).
#[allow(missing_docs)]
pub mod helper {
    pub const MAP_LOOKUP_ELEM: i32 = 1;
    pub const MAP_UPDATE_ELEM: i32 = 2;
    pub const MAP_DELETE_ELEM: i32 = 3;
    pub const PROBE_READ: i32 = 4;
    pub const KTIME_GET_NS: i32 = 5;
    pub const GET_PRANDOM_U32: i32 = 7;
    pub const GET_SMP_PROCESSOR_ID: i32 = 8;
    pub const GET_CURRENT_PID_TGID: i32 = 14;
    pub const GET_CURRENT_UID_GID: i32 = 15;
    pub const GET_CURRENT_COMM: i32 = 16;
    pub const GET_CURRENT_TASK: i32 = 35;
    pub const GET_STACK: i32 = 67;
    pub const GET_NUMA_NODE_ID: i32 = 42;
    pub const PROBE_WRITE_USER: i32 = 36;
    pub const SEND_SIGNAL: i32 = 109;
    pub const PROBE_READ_STR: i32 = 45;
    pub const PROBE_READ_USER: i32 = 112;
    pub const PROBE_READ_KERNEL: i32 = 113;
    pub const PROBE_READ_USER_STR: i32 = 114;
    pub const PROBE_READ_KERNEL_STR: i32 = 115;
    pub const RINGBUF_OUTPUT: i32 = 130;
    pub const GET_CURRENT_TASK_BTF: i32 = 158;
    pub const TASK_PT_REGS: i32 = 175;
    /// tc programs (`net`'s classifier): tag, untag and redirect a frame.
    pub const SKB_VLAN_PUSH: i32 = 18;
    pub const SKB_VLAN_POP: i32 = 19;
    pub const REDIRECT: i32 = 23;

    /// A helper's name, for the disassembler.
    pub fn name(id: i32) -> &'static str {
        match id {
            MAP_LOOKUP_ELEM => "map_lookup_elem",
            MAP_UPDATE_ELEM => "map_update_elem",
            MAP_DELETE_ELEM => "map_delete_elem",
            PROBE_READ => "probe_read",
            KTIME_GET_NS => "ktime_get_ns",
            GET_PRANDOM_U32 => "get_prandom_u32",
            GET_SMP_PROCESSOR_ID => "get_smp_processor_id",
            GET_CURRENT_PID_TGID => "get_current_pid_tgid",
            GET_CURRENT_UID_GID => "get_current_uid_gid",
            GET_CURRENT_COMM => "get_current_comm",
            GET_CURRENT_TASK => "get_current_task",
            GET_NUMA_NODE_ID => "get_numa_node_id",
            PROBE_READ_STR => "probe_read_str",
            PROBE_READ_USER => "probe_read_user",
            PROBE_READ_KERNEL => "probe_read_kernel",
            PROBE_READ_USER_STR => "probe_read_user_str",
            PROBE_READ_KERNEL_STR => "probe_read_kernel_str",
            RINGBUF_OUTPUT => "ringbuf_output",
            GET_CURRENT_TASK_BTF => "get_current_task_btf",
            TASK_PT_REGS => "task_pt_regs",
            SKB_VLAN_PUSH => "skb_vlan_push",
            SKB_VLAN_POP => "skb_vlan_pop",
            REDIRECT => "redirect",
            _ => "unknown",
        }
    }
}

impl Insn {
    /// Raw constructor.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// The little-endian 8-byte encoding the kernel reads.
    pub fn to_bytes(self) -> [u8; 8] {
        let o = self.off.to_le_bytes();
        let i = self.imm.to_le_bytes();
        [
            self.code,
            (self.src << 4) | (self.dst & 0xf),
            o[0],
            o[1],
            i[0],
            i[1],
            i[2],
            i[3],
        ]
    }

    /// Decode the 8-byte encoding.
    pub fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: b[0],
            dst: b[1] & 0xf,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// `dst = imm` (64-bit, sign-extended).
    pub const fn mov64_imm(dst: u8, imm: i32) -> Insn {
        Insn::new(class::ALU64 | Alu::Mov as u8 | K, dst, 0, 0, imm)
    }

    /// `dst = src` (64-bit).
    pub const fn mov64_reg(dst: u8, src: u8) -> Insn {
        Insn::new(class::ALU64 | Alu::Mov as u8 | X, dst, src, 0, 0)
    }

    /// `dst = (u32)src`: zero-extends the low 32 bits.
    pub const fn mov32_reg(dst: u8, src: u8) -> Insn {
        Insn::new(class::ALU | Alu::Mov as u8 | X, dst, src, 0, 0)
    }

    /// `dst op= imm` (64-bit).
    pub const fn alu64_imm(op: Alu, dst: u8, imm: i32) -> Insn {
        Insn::new(class::ALU64 | op as u8 | K, dst, 0, 0, imm)
    }

    /// `dst = (u32)(dst op imm)` (32-bit; the upper half is zeroed).
    pub const fn alu32_imm(op: Alu, dst: u8, imm: i32) -> Insn {
        Insn::new(class::ALU | op as u8 | K, dst, 0, 0, imm)
    }

    /// `dst op= src` (64-bit).
    pub const fn alu64_reg(op: Alu, dst: u8, src: u8) -> Insn {
        Insn::new(class::ALU64 | op as u8 | X, dst, src, 0, 0)
    }

    /// Signed `dst /= src` or `dst %= src` (cpu v4: offset 1).
    pub const fn alu64_signed_reg(op: Alu, dst: u8, src: u8) -> Insn {
        Insn::new(class::ALU64 | op as u8 | X, dst, src, 1, 0)
    }

    /// `dst = -dst`.
    pub const fn neg64(dst: u8) -> Insn {
        Insn::new(class::ALU64 | Alu::Neg as u8 | K, dst, 0, 0, 0)
    }

    /// `dst = *(size *)(src + off)`.
    pub const fn ldx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(class::LDX | size as u8 | MEM, dst, src, off, 0)
    }

    /// `*(size *)(dst + off) = src`.
    pub const fn stx(size: Size, dst: u8, off: i16, src: u8) -> Insn {
        Insn::new(class::STX | size as u8 | MEM, dst, src, off, 0)
    }

    /// `*(size *)(dst + off) = imm`.
    pub const fn st(size: Size, dst: u8, off: i16, imm: i32) -> Insn {
        Insn::new(class::ST | size as u8 | MEM, dst, 0, off, imm)
    }

    /// `if dst cond imm goto +off`.
    pub const fn jmp_imm(cond: Cond, dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(class::JMP | cond as u8 | K, dst, 0, off, imm)
    }

    /// `if (u32)dst cond (u32)imm goto +off`: compares the low 32 bits,
    /// so an immediate with its top bit set means what it says.
    pub const fn jmp32_imm(cond: Cond, dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(class::JMP32 | cond as u8 | K, dst, 0, off, imm)
    }

    /// `if dst cond src goto +off`.
    pub const fn jmp_reg(cond: Cond, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(class::JMP | cond as u8 | X, dst, src, off, 0)
    }

    /// `goto +off`.
    pub const fn ja(off: i16) -> Insn {
        Insn::new(class::JMP, 0, 0, off, 0)
    }

    /// `call helper`.
    pub const fn call(helper: i32) -> Insn {
        Insn::new(class::JMP | CALL, 0, 0, 0, helper)
    }

    /// `r0 = cmpxchg((u64 *)(dst + off), r0, src)`: atomically store `src`
    /// if the word equals r0; r0 gets the old value.
    pub const fn cmpxchg64(dst: u8, off: i16, src: u8) -> Insn {
        Insn::new(class::STX | Size::DW as u8 | 0xc0, dst, src, off, 0xf1)
    }

    /// `exit`.
    pub const fn exit() -> Insn {
        Insn::new(class::JMP | EXIT, 0, 0, 0, 0)
    }

    /// `dst = imm64`: two slots.
    pub const fn ld_imm64(dst: u8, src: u8, imm: u64) -> [Insn; 2] {
        [
            Insn::new(
                class::LD | Size::DW as u8 | IMM,
                dst,
                src,
                0,
                imm as u32 as i32,
            ),
            Insn::new(0, 0, 0, 0, (imm >> 32) as u32 as i32),
        ]
    }

    /// Whether this is the first slot of an `ld_imm64`.
    pub fn is_ld_imm64(&self) -> bool {
        self.code == class::LD | Size::DW as u8 | IMM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_kernel() {
        // r0 = 0 ; exit
        assert_eq!(
            Insn::mov64_imm(0, 0).to_bytes(),
            [0xb7, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(Insn::exit().to_bytes(), [0x95, 0, 0, 0, 0, 0, 0, 0]);
        // r1 = *(u32 *)(r6 + 16)
        assert_eq!(
            Insn::ldx(Size::W, 1, 6, 16).to_bytes(),
            [0x61, 0x61, 16, 0, 0, 0, 0, 0]
        );
        // *(u64 *)(r10 - 8) = r1
        assert_eq!(
            Insn::stx(Size::DW, 10, -8, 1).to_bytes(),
            [0x7b, 0x1a, 0xf8, 0xff, 0, 0, 0, 0]
        );
        // if r0 == 0 goto +3
        assert_eq!(
            Insn::jmp_imm(Cond::Eq, 0, 0, 3).to_bytes(),
            [0x15, 0, 3, 0, 0, 0, 0, 0]
        );
        // call 1
        assert_eq!(Insn::call(1).to_bytes(), [0x85, 0, 0, 0, 1, 0, 0, 0]);
        let [a, b] = Insn::ld_imm64(1, PSEUDO_MAP_FD, 7);
        assert_eq!(a.to_bytes(), [0x18, 0x11, 0, 0, 7, 0, 0, 0]);
        assert_eq!(b.to_bytes(), [0; 8]);
        let i = Insn::alu64_imm(Alu::Add, 3, -5);
        assert_eq!(Insn::from_bytes(i.to_bytes()), i);
    }
}
