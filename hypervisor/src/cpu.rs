//! Putting a vCPU in 64-bit long mode: the identity-mapped page tables,
//! the flat GDT, segment and control registers, FPU state and CPUID.
//!
//! Both boot modes use this: Linux's 64-bit boot protocol and flat payloads
//! enter at a 64-bit address with paging on, so the VMM does the work a
//! boot loader's trampoline would.

use crate::layout::{GDT_ADDR, PDPT_ADDR, PD_ADDR, PML4_ADDR};
use kvm_bindings::{kvm_fpu, kvm_regs, kvm_segment, kvm_sregs, CpuId};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Selectors of the boot GDT, as Linux's boot protocol names them
/// (`__BOOT_CS`, `__BOOT_DS`).
pub const BOOT_CS: u16 = 0x10;
/// The flat data selector.
pub const BOOT_DS: u16 = 0x18;
/// The task-state segment selector (KVM wants a usable TR).
pub const BOOT_TSS: u16 = 0x20;

const CR0_PE: u64 = 1;
const CR0_MP: u64 = 1 << 1;
const CR0_ET: u64 = 1 << 4;
const CR0_NE: u64 = 1 << 5;
const CR0_PG: u64 = 1 << 31;
const CR4_PAE: u64 = 1 << 5;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

/// Page-table entry bits: present, writable, and (in a directory) a 2 MiB page.
const PTE_PRESENT_RW: u64 = 0x3;
const PDE_2MIB: u64 = 0x80;

/// The boot GDT: null, null, 64-bit code, flat data, TSS (in the packed
/// descriptor format the processor reads).
pub const GDT: [u64; 5] = [
    0,
    0,
    gdt_entry(0xa09b, 0, 0xfffff),
    gdt_entry(0xc093, 0, 0xfffff),
    gdt_entry(0x808b, 0, 0xfffff),
];

/// One GDT descriptor from its flags (type, S, DPL, P in the low byte; AVL,
/// L, D/B, G in the high nibble), base and 20-bit limit.
const fn gdt_entry(flags: u16, base: u32, limit: u32) -> u64 {
    ((base as u64 & 0xff00_0000) << 32)
        | ((base as u64 & 0x00ff_ffff) << 16)
        | (limit as u64 & 0x0000_ffff)
        | ((limit as u64 & 0x000f_0000) << 32)
        | ((flags as u64 & 0xf0ff) << 40)
}

/// The `kvm_segment` KVM wants for GDT entry `index`.
fn segment(index: usize) -> kvm_segment {
    let entry = GDT[index];
    let flags = (entry >> 40) & 0xf0ff;
    kvm_segment {
        base: ((entry >> 16) & 0x00ff_ffff) | ((entry >> 32) & 0xff00_0000),
        // The limit is in 4 KiB units when G is set.
        limit: {
            let raw = ((entry & 0xffff) | ((entry >> 32) & 0xf_0000)) as u32;
            if flags & 0x8000 != 0 {
                (raw << 12) | 0xfff
            } else {
                raw
            }
        },
        selector: (index * 8) as u16,
        type_: (flags & 0xf) as u8,
        present: ((flags >> 7) & 1) as u8,
        dpl: ((flags >> 5) & 3) as u8,
        db: ((flags >> 14) & 1) as u8,
        s: ((flags >> 4) & 1) as u8,
        l: ((flags >> 13) & 1) as u8,
        g: ((flags >> 15) & 1) as u8,
        avl: ((flags >> 12) & 1) as u8,
        unusable: 0,
        padding: 0,
    }
}

/// Write the boot GDT and the identity map of the first 4 GiB (2 MiB
/// pages) into guest memory.
pub fn write_boot_tables(mem: &GuestMemoryMmap) -> Result<(), vm_memory::GuestMemoryError> {
    for (i, entry) in GDT.iter().enumerate() {
        mem.write_obj(*entry, GuestAddress(GDT_ADDR + 8 * i as u64))?;
    }
    mem.write_obj(PDPT_ADDR | PTE_PRESENT_RW, GuestAddress(PML4_ADDR))?;
    for dir in 0..4u64 {
        let pd = PD_ADDR + dir * 0x1000;
        mem.write_obj(pd | PTE_PRESENT_RW, GuestAddress(PDPT_ADDR + dir * 8))?;
        for i in 0..512u64 {
            let page = ((dir * 512 + i) << 21) | PTE_PRESENT_RW | PDE_2MIB;
            mem.write_obj(page, GuestAddress(pd + i * 8))?;
        }
    }
    Ok(())
}

/// The special registers of long mode with the boot tables above: flat
/// segments, paging on, no IDT (so an exception in a payload triple-faults
/// and the VMM reports it, instead of running a handler that isn't there).
pub fn long_mode_sregs(mut sregs: kvm_sregs) -> kvm_sregs {
    let code = segment((BOOT_CS / 8) as usize);
    let data = segment((BOOT_DS / 8) as usize);
    let tss = segment((BOOT_TSS / 8) as usize);
    sregs.cs = code;
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.tr = tss;
    sregs.gdt.base = GDT_ADDR;
    sregs.gdt.limit = (GDT.len() * 8 - 1) as u16;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
    sregs.cr3 = PML4_ADDR;
    sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    sregs.efer = EFER_LME | EFER_LMA;
    sregs
}

/// General registers at entry: `rip`, the stack, and the two arguments
/// (`rdi`, `rsi`) the boot mode passes.
pub fn entry_regs(rip: u64, rsp: u64, rdi: u64, rsi: u64) -> kvm_regs {
    kvm_regs {
        rip,
        rsp,
        rbp: rsp,
        rdi,
        rsi,
        // Bit 1 of RFLAGS is reserved and always set; IF stays clear.
        rflags: 0x2,
        ..Default::default()
    }
}

/// The FPU as after FNINIT, with SSE exceptions masked.
pub fn initial_fpu() -> kvm_fpu {
    kvm_fpu {
        fcw: 0x37f,
        mxcsr: 0x1f80,
        ..Default::default()
    }
}

/// KVM's supported CPUID, made this vCPU's: its APIC id in leaf 1 and in
/// the x2APIC topology leaf, and the hypervisor bit set so guests know.
pub fn vcpu_cpuid(supported: &CpuId, index: u8) -> CpuId {
    let mut cpuid = supported.clone();
    for entry in cpuid.as_mut_slice() {
        match entry.function {
            1 => {
                entry.ebx = (entry.ebx & 0x00ff_ffff) | (u32::from(index) << 24);
                entry.ecx |= 1 << 31;
            }
            0xb | 0x1f => entry.edx = u32::from(index),
            _ => {}
        }
    }
    cpuid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdt_segments_decode_as_long_mode_expects() {
        let cs = segment(2);
        assert_eq!(
            (cs.selector, cs.type_, cs.l, cs.db, cs.g, cs.present),
            (0x10, 0xb, 1, 0, 1, 1)
        );
        assert_eq!(cs.limit, 0xffff_ffff);
        let ds = segment(3);
        assert_eq!(
            (ds.selector, ds.type_, ds.l, ds.db, ds.s),
            (0x18, 0x3, 0, 1, 1)
        );
        let tr = segment(4);
        assert_eq!((tr.selector, tr.type_, tr.s), (0x20, 0xb, 0));
        // The values Linux's own boot GDT uses for these selectors.
        assert_eq!(GDT[2], 0x00af_9b00_0000_ffff);
        assert_eq!(GDT[3], 0x00cf_9300_0000_ffff);
    }

    #[test]
    fn page_tables_identity_map_four_gib() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap();
        write_boot_tables(&mem).unwrap();
        let pml4: u64 = mem.read_obj(GuestAddress(PML4_ADDR)).unwrap();
        assert_eq!(pml4, PDPT_ADDR | 3);
        for dir in 0..4u64 {
            let pdpte: u64 = mem.read_obj(GuestAddress(PDPT_ADDR + dir * 8)).unwrap();
            assert_eq!(pdpte, (PD_ADDR + dir * 0x1000) | 3);
        }
        // The page holding 0xd000_0000 (virtio) maps to itself.
        let va = 0xd000_0000u64;
        let pde_addr = PD_ADDR + (va >> 30) * 0x1000 + ((va >> 21) & 511) * 8;
        let pde: u64 = mem.read_obj(GuestAddress(pde_addr)).unwrap();
        assert_eq!(pde & !0xfff, va);
        assert_eq!(pde & 0xff, 0x83);
    }

    #[test]
    fn sregs_turn_on_paging_in_long_mode() {
        let s = long_mode_sregs(kvm_sregs::default());
        assert_eq!(s.cr3, PML4_ADDR);
        assert_ne!(s.cr0 & CR0_PG, 0);
        assert_ne!(s.efer & EFER_LMA, 0);
        assert_eq!(s.cs.selector, BOOT_CS);
    }
}
