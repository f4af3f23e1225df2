//! The Intel MultiProcessor table (MP specification 1.4): how a Linux
//! guest without ACPI learns its vCPUs' local APIC ids, the IOAPIC, and
//! which IOAPIC pin each ISA interrupt arrives on.
//!
//! Linux looks for the MP floating pointer structure ("_MP_") in the first
//! KiB of the EBDA, the last KiB of base memory (639 KiB, our
//! [`MPTABLE_START`]) and the BIOS ROM, and follows it to the configuration
//! table ("PCMP"). What goes in it mirrors the in-kernel irqchip `vm`
//! creates:
//!
//! | entry                 | what                                                             |
//! |-----------------------|------------------------------------------------------------------|
//! | processor × n         | local APIC ids 0..n (as `cpu::vcpu_cpuid` gives them), 0 the BSP |
//! | bus                   | bus 0, ISA                                                       |
//! | IOAPIC                | id n (the first id no vCPU has), at [`IOAPIC_ADDR`]              |
//! | I/O interrupt × 24    | ISA IRQ i → IOAPIC pin i, type INT, flags "conform to the bus"   |
//! | local interrupt × 2   | LINT0 ExtINT (the 8259) to the BSP, LINT1 NMI to every CPU       |
//!
//! IRQ i lands on pin i, IRQ 0 included, because that is KVM's default
//! routing (`kvm_setup_default_irq_routing`: GSI i → IOAPIC pin i, and GSI
//! 0..15 → the 8259 too). A PC firmware's "ExtINT on pin 0, timer on pin 2"
//! would describe wiring KVM does not have: KVM's 8259 reaches a vCPU
//! through LINT0, which the ExtINT local interrupt entry states, and the PIT
//! raises GSI 0, so pin 0 carries IRQ 0. Without an INT entry for IRQ 0,
//! Linux's `check_timer` reports "BIOS bug: timer not connected to
//! IO-APIC" and falls back to probing.
//!
//! Firecracker writes the same table (`arch/x86_64/mptable.rs`), as do
//! crosvm and Cloud Hypervisor; the field layouts are the spec's chapter 4
//! and Linux's `asm/mpspec_def.h`.

use crate::layout::{HIMEM_START, IOAPIC_ADDR, LAPIC_ADDR, MPTABLE_START};
use vm_memory::{Bytes, GuestAddress, GuestMemoryError, GuestMemoryMmap};

/// The most vCPUs the table describes: xAPIC ids are 8 bits, 0xff is the
/// broadcast id, and the IOAPIC takes the id after the last vCPU's, so
/// vCPUs get 0..=253 and the IOAPIC 254. The table for this many is
/// [`table_len`]`(254)` = 5364 bytes, which fits between
/// [`MPTABLE_START`] and 1 MiB (checked when this compiles).
pub const MAX_VCPUS: u8 = 254;

/// ISA interrupts described: one per pin of KVM's IOAPIC.
pub const IOAPIC_PINS: u8 = 24;

/// The floating pointer structure's size (one 16-byte paragraph).
const MPF_LEN: usize = 16;
/// The configuration table header's size.
const HEADER_LEN: usize = 44;
/// A processor entry's size; every other entry type is [`ENTRY_LEN`].
const PROCESSOR_LEN: usize = 20;
const ENTRY_LEN: usize = 8;

/// Entry types (spec table 4-3).
const ENTRY_PROCESSOR: u8 = 0;
const ENTRY_BUS: u8 = 1;
const ENTRY_IOAPIC: u8 = 2;
const ENTRY_IO_INTERRUPT: u8 = 3;
const ENTRY_LOCAL_INTERRUPT: u8 = 4;

/// Interrupt types of the two interrupt entries (spec table 4-8).
const INT_VECTORED: u8 = 0;
const INT_NMI: u8 = 1;
const INT_EXTINT: u8 = 3;
/// Polarity and trigger mode "conform to the bus": for ISA, active high
/// and edge-triggered, as the PIT, the 8250 and virtio's irqfds are.
const IRQ_FLAGS_CONFORM: u16 = 0;

/// Specification revision 1.4.
const SPEC_REV: u8 = 4;
/// Processor flags (spec table 4-5): usable, and the bootstrap processor.
const CPU_ENABLED: u8 = 1;
const CPU_BOOTSTRAP: u8 = 2;
/// The IOAPIC flag "usable".
const IOAPIC_ENABLED: u8 = 1;
/// The local APIC version KVM's in-kernel LAPIC reports (an integrated
/// APIC, as on every x86-64 processor).
const LAPIC_VERSION: u8 = 0x14;
/// The version KVM's in-kernel IOAPIC reports in its version register.
const IOAPIC_VERSION: u8 = 0x11;
/// The CPU signature (CPUID leaf 1 EAX: family 6, model 0, stepping 0) and
/// feature flags (leaf 1 EDX: FPU, APIC). Linux reads the real CPUID on
/// x86-64 and ignores both; they are here because the spec has them.
const CPU_SIGNATURE: u32 = 0x600;
const CPU_FEATURES: u32 = 1 | (1 << 9);
/// The ISA bus's id, and its type string (blank-padded, spec table 4-6).
const ISA_BUS: u8 = 0;
const ISA_BUS_TYPE: &[u8; 6] = b"ISA   ";
/// A local interrupt entry's destination "every local APIC".
const ALL_LAPICS: u8 = 0xff;
/// Who made the table: the header's OEM and product ids (blank-padded).
const OEM_ID: &[u8; 8] = b"LUMEN   ";
const PRODUCT_ID: &[u8; 12] = b"LUMEN VM    ";

const _: () = assert!(MPTABLE_START + table_len(MAX_VCPUS) as u64 <= HIMEM_START);

/// Why the MP table could not be written.
#[derive(Debug, thiserror::Error)]
pub enum MpTableError {
    #[error("the MP table needs at least one vCPU")]
    NoVcpus,
    #[error(
        "{vcpus} vCPUs: the MP table describes at most {MAX_VCPUS} \
         (8-bit APIC ids, 0xff is broadcast, and the IOAPIC takes one)"
    )]
    TooManyVcpus { vcpus: u8 },
    #[error("writing the MP table at 0x{MPTABLE_START:x}: {0}")]
    Memory(#[from] GuestMemoryError),
}

/// The MP table's size in bytes for `vcpus` vCPUs: the floating pointer
/// and the configuration table.
pub const fn table_len(vcpus: u8) -> usize {
    MPF_LEN + config_len(vcpus)
}

/// The configuration table's size: header and entries.
const fn config_len(vcpus: u8) -> usize {
    HEADER_LEN + PROCESSOR_LEN * vcpus as usize + ENTRY_LEN * (1 + 1 + IOAPIC_PINS as usize + 2)
}

/// Write the MP table for `vcpus` vCPUs at [`MPTABLE_START`].
pub fn write(mem: &GuestMemoryMmap, vcpus: u8) -> Result<(), MpTableError> {
    mem.write_slice(&table(vcpus)?, GuestAddress(MPTABLE_START))?;
    Ok(())
}

/// The bytes [`write()`] puts at [`MPTABLE_START`]: the floating pointer
/// structure, then the configuration table it points to.
pub fn table(vcpus: u8) -> Result<Vec<u8>, MpTableError> {
    if vcpus == 0 {
        return Err(MpTableError::NoVcpus);
    }
    if vcpus > MAX_VCPUS {
        return Err(MpTableError::TooManyVcpus { vcpus });
    }
    let ioapic_id = vcpus;
    let config_addr = (MPTABLE_START + MPF_LEN as u64) as u32;

    let mut mpf = Vec::with_capacity(MPF_LEN);
    mpf.extend_from_slice(b"_MP_");
    mpf.extend_from_slice(&config_addr.to_le_bytes());
    mpf.push(1); // length, in 16-byte paragraphs
    mpf.push(SPEC_REV);
    mpf.push(0); // checksum, below

    // Feature byte 1 = 0: a configuration table is present (not one of
    // the spec's default configurations). Byte 2 bit 7 (IMCRP) = 0: no
    // IMCR, the 8259 is in virtual wire mode. Bytes 3..5 are reserved.
    mpf.extend_from_slice(&[0; 5]);
    mpf[10] = checksum(&mpf);

    let mut entries = Vec::with_capacity(config_len(vcpus) - HEADER_LEN);
    for id in 0..vcpus {
        let bootstrap = if id == 0 { CPU_BOOTSTRAP } else { 0 };
        entries.extend_from_slice(&[ENTRY_PROCESSOR, id, LAPIC_VERSION, CPU_ENABLED | bootstrap]);
        entries.extend_from_slice(&CPU_SIGNATURE.to_le_bytes());
        entries.extend_from_slice(&CPU_FEATURES.to_le_bytes());
        entries.extend_from_slice(&[0; 8]); // reserved
    }
    entries.extend_from_slice(&[ENTRY_BUS, ISA_BUS]);
    entries.extend_from_slice(ISA_BUS_TYPE);
    entries.extend_from_slice(&[ENTRY_IOAPIC, ioapic_id, IOAPIC_VERSION, IOAPIC_ENABLED]);
    entries.extend_from_slice(&(IOAPIC_ADDR as u32).to_le_bytes());
    for irq in 0..IOAPIC_PINS {
        entries.extend_from_slice(&interrupt(
            ENTRY_IO_INTERRUPT,
            INT_VECTORED,
            irq,
            ioapic_id,
            irq,
        ));
    }
    // The 8259's INTR is wired to the BSP's LINT0 (where `cpu::set_lint`
    // puts ExtINT delivery); NMIs reach every processor's LINT1.
    entries.extend_from_slice(&interrupt(ENTRY_LOCAL_INTERRUPT, INT_EXTINT, 0, 0, 0));
    entries.extend_from_slice(&interrupt(ENTRY_LOCAL_INTERRUPT, INT_NMI, 0, ALL_LAPICS, 1));
    let entry_count = u16::from(vcpus) + 1 + 1 + u16::from(IOAPIC_PINS) + 2;

    let mut config = Vec::with_capacity(config_len(vcpus));
    config.extend_from_slice(b"PCMP");
    // At most `table_len(MAX_VCPUS)`, well within 16 bits.
    config.extend_from_slice(&(config_len(vcpus) as u16).to_le_bytes());
    config.push(SPEC_REV);
    config.push(0); // checksum, below
    config.extend_from_slice(OEM_ID);
    config.extend_from_slice(PRODUCT_ID);
    config.extend_from_slice(&0u32.to_le_bytes()); // no OEM table
    config.extend_from_slice(&0u16.to_le_bytes()); // its size
    config.extend_from_slice(&entry_count.to_le_bytes());
    config.extend_from_slice(&(LAPIC_ADDR as u32).to_le_bytes());
    config.extend_from_slice(&0u16.to_le_bytes()); // no extended table
    config.push(0); // its checksum
    config.push(0); // reserved
    debug_assert_eq!(config.len(), HEADER_LEN);
    config.extend_from_slice(&entries);
    config[7] = checksum(&config);

    mpf.extend_from_slice(&config);
    debug_assert_eq!(mpf.len(), table_len(vcpus));
    Ok(mpf)
}

/// An I/O or local interrupt entry (they share a layout): interrupt type,
/// flags, source bus (always ISA) and IRQ, destination APIC and its pin.
fn interrupt(entry: u8, kind: u8, source_irq: u8, dest_apic: u8, dest_pin: u8) -> [u8; ENTRY_LEN] {
    let [flags_lo, flags_hi] = IRQ_FLAGS_CONFORM.to_le_bytes();
    [
        entry, kind, flags_lo, flags_hi, ISA_BUS, source_irq, dest_apic, dest_pin,
    ]
}

/// The byte that makes `bytes` (where it is still 0) sum to 0 mod 256.
fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, b| sum.wrapping_add(*b))
        .wrapping_neg()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    fn sum(b: &[u8]) -> u8 {
        b.iter().fold(0u8, |s, x| s.wrapping_add(*x))
    }

    /// An entry of the configuration table, as Linux's `smp_read_mpc`
    /// walks them: the type byte says the length.
    #[derive(Debug, PartialEq, Eq)]
    enum Entry {
        Processor {
            apic_id: u8,
            flags: u8,
        },
        Bus {
            id: u8,
            kind: [u8; 6],
        },
        IoApic {
            id: u8,
            version: u8,
            flags: u8,
            addr: u32,
        },
        IoInterrupt {
            kind: u8,
            flags: u16,
            bus: u8,
            irq: u8,
            apic: u8,
            pin: u8,
        },
        LocalInterrupt {
            kind: u8,
            apic: u8,
            lint: u8,
        },
    }

    /// Read the table back from guest memory as Linux would: find the
    /// floating pointer at MPTABLE_START, check both checksums and
    /// signatures, and walk the entries; the header's entry count too.
    fn parse(mem: &GuestMemoryMmap) -> (Vec<u8>, Vec<Entry>) {
        let mut mpf = [0u8; MPF_LEN];
        mem.read_slice(&mut mpf, GuestAddress(MPTABLE_START))
            .unwrap();
        assert_eq!(&mpf[..4], b"_MP_");
        assert_eq!(mpf[8], 1, "length in paragraphs");
        assert_eq!(mpf[9], 4, "spec 1.4");
        assert_eq!(sum(&mpf), 0, "floating pointer checksum");
        assert_eq!(mpf[11], 0, "feature byte 1: a table is present");
        let at = u64::from(u32_at(&mpf, 4));

        let mut header = [0u8; HEADER_LEN];
        mem.read_slice(&mut header, GuestAddress(at)).unwrap();
        assert_eq!(&header[..4], b"PCMP");
        assert_eq!(header[6], 4);
        assert_eq!(u32_at(&header, 36), 0xfee0_0000, "local APIC address");
        let mut config = vec![0u8; usize::from(u16_at(&header, 4))];
        mem.read_slice(&mut config, GuestAddress(at)).unwrap();
        assert_eq!(sum(&config), 0, "configuration table checksum");

        let mut entries = Vec::new();
        let mut i = HEADER_LEN;
        while i < config.len() {
            let e = &config[i..];
            let (entry, len) = match e[0] {
                0 => (
                    Entry::Processor {
                        apic_id: e[1],
                        flags: e[3],
                    },
                    20,
                ),
                1 => (
                    Entry::Bus {
                        id: e[1],
                        kind: e[2..8].try_into().unwrap(),
                    },
                    8,
                ),
                2 => (
                    Entry::IoApic {
                        id: e[1],
                        version: e[2],
                        flags: e[3],
                        addr: u32_at(e, 4),
                    },
                    8,
                ),
                3 => (
                    Entry::IoInterrupt {
                        kind: e[1],
                        flags: u16_at(e, 2),
                        bus: e[4],
                        irq: e[5],
                        apic: e[6],
                        pin: e[7],
                    },
                    8,
                ),
                4 => (
                    Entry::LocalInterrupt {
                        kind: e[1],
                        apic: e[6],
                        lint: e[7],
                    },
                    8,
                ),
                t => panic!("unknown entry type {t} at {i}"),
            };
            entries.push(entry);
            i += len;
        }
        assert_eq!(i, config.len(), "entries end where the table does");
        assert_eq!(
            usize::from(u16_at(&config, 34)),
            entries.len(),
            "entry count"
        );
        (config, entries)
    }

    fn memory() -> GuestMemoryMmap {
        GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap()
    }

    fn check(vcpus: u8) {
        let mem = memory();
        write(&mem, vcpus).unwrap();
        let (config, entries) = parse(&mem);
        assert_eq!(config.len() + MPF_LEN, table_len(vcpus));
        assert_eq!(table(vcpus).unwrap()[MPF_LEN..], config[..]);

        let processors: Vec<_> = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Processor { apic_id, flags } => Some((*apic_id, *flags)),
                _ => None,
            })
            .collect();
        let want: Vec<_> = (0..vcpus)
            .map(|id| (id, if id == 0 { 3 } else { 1 }))
            .collect();
        assert_eq!(processors, want, "APIC ids 0..n, enabled, BSP flag on 0");

        assert!(entries.contains(&Entry::Bus {
            id: 0,
            kind: *b"ISA   "
        }));
        let ioapics: Vec<_> = entries
            .iter()
            .filter(|e| matches!(e, Entry::IoApic { .. }))
            .collect();
        assert_eq!(
            ioapics,
            [&Entry::IoApic {
                id: vcpus,
                version: 0x11,
                flags: 1,
                addr: 0xfec0_0000
            }]
        );
        let routes: Vec<_> = entries
            .iter()
            .filter(|e| matches!(e, Entry::IoInterrupt { .. }))
            .collect();
        assert_eq!(routes.len(), 24);
        for (irq, route) in (0u8..).zip(routes) {
            assert_eq!(
                route,
                &Entry::IoInterrupt {
                    kind: 0,
                    flags: 0,
                    bus: 0,
                    irq,
                    apic: vcpus,
                    pin: irq
                },
                "ISA IRQ {irq} on pin {irq}, as KVM routes it"
            );
        }
        let locals: Vec<_> = entries
            .iter()
            .filter(|e| matches!(e, Entry::LocalInterrupt { .. }))
            .collect();
        assert_eq!(
            locals,
            [
                &Entry::LocalInterrupt {
                    kind: 3,
                    apic: 0,
                    lint: 0
                },
                &Entry::LocalInterrupt {
                    kind: 1,
                    apic: 0xff,
                    lint: 1
                }
            ]
        );
    }

    #[test]
    fn one_vcpu() {
        check(1);
    }

    #[test]
    fn two_vcpus() {
        check(2);
    }

    #[test]
    fn max_vcpus_fit_below_1_mib() {
        check(MAX_VCPUS);
        assert_eq!(table_len(MAX_VCPUS), 5364);
        assert!(MPTABLE_START + table_len(MAX_VCPUS) as u64 <= 0x10_0000);
    }

    #[test]
    fn floating_pointer_is_where_linux_scans() {
        // The last KiB of 640 KiB of base memory (mpparse.c's
        // smp_scan_config(639 * 0x400, 0x400)), on a 16-byte boundary.
        assert_eq!(MPTABLE_START, 639 * 0x400);
        assert_eq!(MPTABLE_START % 16, 0);
    }

    #[test]
    fn no_vcpus_and_too_many_are_refused() {
        assert!(matches!(table(0), Err(MpTableError::NoVcpus)));
        let err = table(255).unwrap_err();
        assert!(
            matches!(err, MpTableError::TooManyVcpus { vcpus: 255 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("at most 254"), "{err}");
        let mem = memory();
        assert!(write(&mem, 255).is_err());
        let mut first = [0u8; 4];
        mem.read_slice(&mut first, GuestAddress(MPTABLE_START))
            .unwrap();
        assert_eq!(first, [0; 4], "nothing written");
    }

    #[test]
    fn memory_without_the_table_area_is_an_error() {
        let small = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x9_0000)]).unwrap();
        assert!(matches!(write(&small, 1), Err(MpTableError::Memory(_))));
    }
}
