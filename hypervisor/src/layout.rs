//! The guest-physical address map every Lumen VM shares.
//!
//! Low memory follows the PC conventions Linux expects (boot structures
//! below 1 MiB, the kernel or payload at 1 MiB); devices live in a hole
//! below 4 GiB that RAM never overlaps, so a VM's RAM is one region up to
//! `MMIO_HOLE_START` and continues above 4 GiB when it is larger.

/// The boot GDT (null, null, 64-bit code, data, TSS).
pub const GDT_ADDR: u64 = 0x500;
/// Linux's zero page (`struct boot_params`).
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// The level-4 page table; the PDPT and four page directories follow it.
pub const PML4_ADDR: u64 = 0x9000;
/// The page-directory-pointer table.
pub const PDPT_ADDR: u64 = 0xa000;
/// The first of four page directories that identity-map 4 GiB in 2 MiB pages.
pub const PD_ADDR: u64 = 0xb000;
/// The kernel or payload command line (NUL-terminated).
pub const CMDLINE_ADDR: u64 = 0x20000;
/// The longest command line, NUL included.
pub const CMDLINE_MAX: usize = 0x10000;
/// The payload's initial stack pointer (the stack grows down from here).
pub const PAYLOAD_STACK_TOP: u64 = 0x80000;
/// Where the extended BIOS data area would start: RAM below 1 MiB ends here in the e820 map.
pub const EBDA_START: u64 = 0x9fc00;
/// The Intel MP table (Linux guests): its floating pointer must lie in
/// the last KiB of base memory, one of the places Linux scans, and the
/// configuration table follows it (up to 5.3 KiB, below `HIMEM_START`).
pub const MPTABLE_START: u64 = EBDA_START;
/// The ACPI tables (Linux guests), from the RSDP on: the start of the
/// BIOS area where Linux looks for the RSDP, which the e820 map leaves
/// out with the rest of the legacy hole below `HIMEM_START`.
pub const ACPI_START: u64 = 0xe_0000;
/// The kernel or payload load address.
pub const HIMEM_START: u64 = 0x10_0000;

/// Unbacked addresses test guests use to make MMIO exits: writes are
/// dropped, reads return all ones.
pub const SCRATCH_MMIO_START: u64 = 0xc000_0000;
/// Size of the scratch MMIO window.
pub const SCRATCH_MMIO_SIZE: u64 = 0x1000;
/// The start of the device hole below 4 GiB.
pub const MMIO_HOLE_START: u64 = 0xc000_0000;
/// The first virtio-mmio device; device `n` is at `VIRTIO_MMIO_START + n * VIRTIO_MMIO_SIZE`.
pub const VIRTIO_MMIO_START: u64 = 0xd000_0000;
/// Each virtio-mmio device's register window.
pub const VIRTIO_MMIO_SIZE: u64 = 0x1000;
/// The most virtio-mmio devices a VM has.
pub const VIRTIO_MMIO_SLOTS: u64 = 8;
/// The first interrupt line of virtio devices (device `n` raises `VIRTIO_IRQ_BASE + n`).
pub const VIRTIO_IRQ_BASE: u32 = 5;
/// The IOAPIC's registers (the in-kernel irqchip's, Linux guests only).
pub const IOAPIC_ADDR: u64 = 0xfec0_0000;
/// The local APICs' registers, each vCPU seeing its own at this address.
pub const LAPIC_ADDR: u64 = 0xfee0_0000;
/// 4 GiB: RAM beyond the hole continues here.
pub const FOUR_GIB: u64 = 0x1_0000_0000;

/// The 8250 UART (COM1) and its interrupt line.
pub const SERIAL_PORT: u16 = 0x3f8;
/// COM1's interrupt line.
pub const SERIAL_IRQ: u32 = 4;
/// The i8042 controller's data and command ports.
pub const I8042_PORT: u16 = 0x60;
/// A 32-bit write here ends the VM with that exit status (as QEMU's isa-debug-exit).
pub const EXIT_PORT: u16 = 0xf4;
/// The POST diagnostic port: writes are dropped, reads return 0xff.
pub const POST_PORT: u16 = 0x80;

// The device windows must not overlap each other or the IOAPIC/LAPIC area
// at the top of the hole: checked when this compiles.
const _: () = assert!(SCRATCH_MMIO_START + SCRATCH_MMIO_SIZE <= VIRTIO_MMIO_START);
const _: () = assert!(VIRTIO_MMIO_START + VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_SIZE <= IOAPIC_ADDR);
const _: () = assert!(IOAPIC_ADDR < LAPIC_ADDR && LAPIC_ADDR < FOUR_GIB);

/// The RAM regions of a VM with `ram` bytes: one below the device hole,
/// and the rest above 4 GiB.
pub fn ram_regions(ram: u64) -> Vec<(u64, u64)> {
    if ram <= MMIO_HOLE_START {
        vec![(0, ram)]
    } else {
        vec![(0, MMIO_HOLE_START), (FOUR_GIB, ram - MMIO_HOLE_START)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_is_split_around_the_device_hole() {
        assert_eq!(ram_regions(64 << 20), vec![(0, 64 << 20)]);
        assert_eq!(
            ram_regions(4 << 30),
            vec![
                (0, MMIO_HOLE_START),
                (FOUR_GIB, (4 << 30) - MMIO_HOLE_START)
            ]
        );
    }
}
