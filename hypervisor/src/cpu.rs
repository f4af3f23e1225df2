//! Putting a vCPU in 64-bit long mode: the identity-mapped page tables,
//! the flat GDT, segment and control registers, FPU state and CPUID.
//!
//! Both boot modes use this: Linux's 64-bit boot protocol and flat payloads
//! enter at a 64-bit address with paging on, so the VMM does the work a
//! boot loader's trampoline would. A Linux guest's vCPUs also get what its
//! firmware would have set: the local APIC's LINT0/LINT1 wiring
//! ([`set_lint`]) and the boot MSRs ([`set_boot_msrs`]), as Firecracker does.

use crate::error::{kvm_err, VmmError};
use crate::layout::{GDT_ADDR, PDPT_ADDR, PD_ADDR, PML4_ADDR};
use kvm_bindings::{
    kvm_fpu, kvm_lapic_state, kvm_msr_entry, kvm_regs, kvm_segment, kvm_sregs, CpuId, Msrs,
};
use kvm_ioctls::VcpuFd;
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

/// The local APIC's LVT LINT0 and LINT1 registers: offsets in its
/// register page, which `kvm_lapic_state` holds as KVM_GET_LAPIC returns it.
const APIC_LVT_LINT0: usize = 0x350;
const APIC_LVT_LINT1: usize = 0x360;
/// An LVT entry's delivery mode, bits 8..10, and the two modes used here.
const APIC_DELIVERY_MODE_MASK: u32 = 0x700;
const APIC_DELIVERY_NMI: u32 = 0b100 << 8;
const APIC_DELIVERY_EXTINT: u32 = 0b111 << 8;

fn lapic_reg(lapic: &kvm_lapic_state, offset: usize) -> u32 {
    let r = &lapic.regs[offset..offset + 4];
    u32::from_le_bytes([r[0] as u8, r[1] as u8, r[2] as u8, r[3] as u8])
}

fn set_lapic_reg(lapic: &mut kvm_lapic_state, offset: usize, value: u32) {
    for (reg, byte) in lapic.regs[offset..offset + 4]
        .iter_mut()
        .zip(value.to_le_bytes())
    {
        *reg = byte as std::os::raw::c_char;
    }
}

/// `lapic` wired as the MP table says (and a PC's firmware leaves it): the
/// 8259's INTR on LINT0 (ExtINT delivery), NMI on LINT1. Only the delivery
/// modes change: the mask bits stay as KVM set them at reset (LINT0 open on
/// the BSP alone, so the 8259 interrupts one CPU, until Linux's own APIC
/// set-up rewrites both).
pub fn lint_wired(mut lapic: kvm_lapic_state) -> kvm_lapic_state {
    for (offset, mode) in [
        (APIC_LVT_LINT0, APIC_DELIVERY_EXTINT),
        (APIC_LVT_LINT1, APIC_DELIVERY_NMI),
    ] {
        let reg = lapic_reg(&lapic, offset);
        set_lapic_reg(&mut lapic, offset, (reg & !APIC_DELIVERY_MODE_MASK) | mode);
    }
    lapic
}

/// Wire `vcpu`'s LINT0 and LINT1 ([`lint_wired`]). Needs the in-kernel
/// irqchip: without it the vCPU has no local APIC to read.
pub fn set_lint(vcpu: &VcpuFd) -> Result<(), kvm_ioctls::Error> {
    let lapic = vcpu.get_lapic()?;
    vcpu.set_lapic(&lint_wired(lapic))
}

/// MSR numbers (Intel SDM volume 4; Linux's `asm/msr-index.h`).
const MSR_IA32_TSC: u32 = 0x10;
const MSR_IA32_SYSENTER_CS: u32 = 0x174;
const MSR_IA32_SYSENTER_ESP: u32 = 0x175;
const MSR_IA32_SYSENTER_EIP: u32 = 0x176;
const MSR_IA32_MISC_ENABLE: u32 = 0x1a0;
const MSR_MTRR_DEF_TYPE: u32 = 0x2ff;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SYSCALL_MASK: u32 = 0xc000_0084;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;
/// IA32_MISC_ENABLE bit 0: fast-string operations (`rep movs`/`stos` by
/// cache line). Firmware turns it on and Linux never does: on Intel, it
/// finds it off, logs "Disabled fast string operations" and drops
/// REP_GOOD and ERMS, taking slower `memcpy`s.
const MISC_ENABLE_FAST_STRING: u64 = 1;
/// IA32_MTRR_DEF_TYPE: MTRRs enabled (bit 11), default type write-back (6).
const MTRR_ENABLE: u64 = 1 << 11;
const MTRR_TYPE_WRITE_BACK: u64 = 6;

/// The MSRs a Linux guest's vCPUs start with, as Firecracker sets them
/// (`arch/x86_64/msr.rs`, `create_boot_msr_entries`): the SYSENTER and
/// SYSCALL MSRs at 0; the TSC at 0, which KVM takes from the VMM as
/// "synchronise with the other vCPUs" (`kvm_synchronize_tsc`), not as a
/// reset, so all vCPUs' TSCs agree; fast strings on; and the MTRRs'
/// default type write-back (no variable or fixed range is set, so the
/// default covers all memory; at KVM's reset value, MTRRs off, the
/// architecture makes everything uncacheable, which a guest that consults
/// MTRRs believes).
pub fn boot_msrs() -> Vec<kvm_msr_entry> {
    let entry = |index, data| kvm_msr_entry {
        index,
        data,
        ..Default::default()
    };
    vec![
        entry(MSR_IA32_SYSENTER_CS, 0),
        entry(MSR_IA32_SYSENTER_ESP, 0),
        entry(MSR_IA32_SYSENTER_EIP, 0),
        entry(MSR_STAR, 0),
        entry(MSR_CSTAR, 0),
        entry(MSR_KERNEL_GS_BASE, 0),
        entry(MSR_SYSCALL_MASK, 0),
        entry(MSR_LSTAR, 0),
        entry(MSR_IA32_TSC, 0),
        entry(MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
        entry(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRITE_BACK),
    ]
}

/// Set [`boot_msrs`] on vCPU `index`. KVM_SET_MSRS stops at the first MSR
/// it refuses and returns how many it set, so a short count names the
/// culprit.
pub fn set_boot_msrs(vcpu: &VcpuFd, index: u8) -> Result<(), VmmError> {
    let entries = boot_msrs();
    let msrs = Msrs::from_entries(&entries)
        .map_err(|e| VmmError::Config(format!("{} boot MSRs: {e:?}", entries.len())))?;
    let set = vcpu
        .set_msrs(&msrs)
        .map_err(kvm_err(format!("set the boot MSRs of vCPU {index}")))?;
    if set != entries.len() {
        return Err(VmmError::Msr {
            vcpu: index,
            msr: entries.get(set).map_or(0, |e| e.index),
            set,
            wanted: entries.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint0_becomes_extint_and_lint1_nmi_keeping_the_mask_bits() {
        let mut lapic = kvm_lapic_state::default();
        // As KVM resets an AP's: both masked, fixed delivery; and a
        // vector and trigger bits that must survive.
        set_lapic_reg(&mut lapic, APIC_LVT_LINT0, 0x1_0000);
        set_lapic_reg(&mut lapic, APIC_LVT_LINT1, 0x1_8420);
        set_lapic_reg(&mut lapic, 0x340, 0xdead_beef);
        let wired = lint_wired(lapic);
        assert_eq!(lapic_reg(&wired, APIC_LVT_LINT0), 0x1_0700);
        assert_eq!(lapic_reg(&wired, APIC_LVT_LINT1), 0x1_8420);
        assert_eq!(lapic_reg(&wired, 0x340), 0xdead_beef, "others untouched");
        // The BSP's LINT0 as KVM resets it (unmasked ExtINT) stays so.
        set_lapic_reg(&mut lapic, APIC_LVT_LINT0, 0x700);
        set_lapic_reg(&mut lapic, APIC_LVT_LINT1, 0x500);
        let wired = lint_wired(lapic);
        assert_eq!(lapic_reg(&wired, APIC_LVT_LINT0), 0x700);
        assert_eq!(lapic_reg(&wired, APIC_LVT_LINT1), 0x400);
        // Registers are little-endian in the page, as the LAPIC's MMIO reads them.
        assert_eq!(wired.regs[APIC_LVT_LINT1 + 1] as u8, 0x04);
    }

    #[test]
    fn boot_msrs_are_firecrackers() {
        let got: Vec<(u32, u64)> = boot_msrs().iter().map(|e| (e.index, e.data)).collect();
        assert_eq!(
            got,
            vec![
                (0x174, 0),
                (0x175, 0),
                (0x176, 0),
                (0xc000_0081, 0),
                (0xc000_0083, 0),
                (0xc000_0102, 0),
                (0xc000_0084, 0),
                (0xc000_0082, 0),
                (0x10, 0),
                (0x1a0, 1),
                (0x2ff, 0x806),
            ]
        );
        assert!(Msrs::from_entries(&boot_msrs()).is_ok());
    }

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
