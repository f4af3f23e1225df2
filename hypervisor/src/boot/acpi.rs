//! The ACPI tables of a Linux guest: how a kernel built without the MP
//! table parser or virtio-mmio command-line devices (Debian's cloud
//! kernel) finds its vCPUs, its IOAPIC, the serial port and the virtio
//! devices.
//!
//! The tables describe the same machine as the MP table (`mptable`,
//! kept for kernels without ACPI) and the `virtio_mmio.device=` arguments
//! (kept for kernels without ACPI but with command-line devices), and
//! sit in the BIOS area that Linux scans for the RSDP and that the e820
//! map leaves out ([`linux::e820_map`](super::linux::e820_map) has no
//! RAM between `EBDA_START` and 1 MiB):
//!
//! | address    | table | what                                                              |
//! |------------|-------|-------------------------------------------------------------------|
//! | `0xe0000`  | RSDP  | ACPI 2.0+ root pointer to the XSDT, both checksums; Linux scans 0xe0000..0xfffff for it, and the zero page's `acpi_rsdp_addr` points at it too |
//! | `0xe0040`  | XSDT  | the FADT and the MADT                                             |
//! | `0xe0100`  | FACP  | the FADT (revision 6.5, 276 bytes): hardware-reduced ACPI, the DSDT |
//! | `0xe0400`  | APIC  | the MADT: local APIC at `LAPIC_ADDR`, PCAT_COMPAT, one enabled local APIC per vCPU (ids 0..n), the IOAPIC (id n, `IOAPIC_ADDR`, GSI base 0), LINT1 NMI |
//! | `0xe1000`  | DSDT  | `\_SB_.COM1` (PNP0501, ports 0x3f8..0x3ff, IRQ 4) and one `\_SB_.Vnnn` (LNRO0005, 4 KiB window, its GSI) per virtio-mmio device |
//!
//! Choices, and why:
//!
//! - Hardware-reduced ACPI, as Firecracker's: there is no PM timer, no
//!   SCI, no fixed-feature hardware to describe. Linux then leaves the
//!   8259 and the PIT alone (`acpi_reduced_hw_init` installs the null
//!   legacy PIC and skips the timer setup) and runs on the local APIC
//!   timer; ISA IRQs reach the IOAPIC by the GSIs the DSDT names.
//! - No Interrupt Source Override for IRQ 0: KVM's default routing
//!   (`kvm_setup_default_irq_routing`) sends GSI i to IOAPIC pin i, and
//!   the in-kernel PIT raises GSI 0, so IRQ 0 is on pin 0, Linux's
//!   assumption without an override (QEMU's override 0 → 2 matches the
//!   routing QEMU installs itself; this VMM keeps KVM's). The MP table
//!   says the same. Under hardware-reduced ACPI Linux sets up no IRQ 0
//!   anyway.
//! - PCAT_COMPAT is set because the in-kernel 8259 is there; a kernel
//!   in hardware-reduced mode does not use it.
//! - IAPC_BOOT_ARCH: no VGA, no MSI, no ASPM control, no CMOS RTC (there
//!   is none), and no 8042 bit: the i8042 is only the reset line, which
//!   Linux's reboot code writes directly, so its keyboard driver does not
//!   probe it.
//! - Each device is both in the DSDT and on the command line. A kernel
//!   that reads both registers each virtio-mmio window twice; the first
//!   probe claims the window (the ACPI device: ACPI enumerates before the
//!   driver's command-line devices exist) and the second fails with
//!   -EBUSY before touching the device, leaving two lines in the log.
//!
//! The tables are built with rust-vmm's `acpi_tables` crate (Cloud
//! Hypervisor's), whose AML builders make the DSDT.

use crate::layout::{
    ACPI_START, HIMEM_START, IOAPIC_ADDR, LAPIC_ADDR, MPTABLE_START, SERIAL_IRQ, SERIAL_PORT,
    VIRTIO_MMIO_SIZE, VIRTIO_MMIO_SLOTS,
};
use acpi_tables::aml;
use acpi_tables::fadt::{FADTBuilder, Flags};
use acpi_tables::madt::{EnabledStatus, IoApic, ProcessorLocalApic};
use acpi_tables::rsdp::Rsdp;
use acpi_tables::sdt::Sdt;
use acpi_tables::xsdt::XSDT;
use acpi_tables::{Aml, AmlSink};
use vm_memory::{Bytes, GuestAddress, GuestMemoryError, GuestMemoryMmap};

/// Where the RSDP lies: the start of the BIOS area Linux's
/// `acpi_find_root_pointer` scans (0xe0000..0xfffff, on 16-byte boundaries).
pub const RSDP_ADDR: u64 = ACPI_START;
/// The XSDT's address.
pub const XSDT_ADDR: u64 = ACPI_START + 0x40;
/// The FADT's address.
pub const FADT_ADDR: u64 = ACPI_START + 0x100;
/// The MADT's address.
pub const MADT_ADDR: u64 = ACPI_START + 0x400;
/// The DSDT's address: last, as its size grows with the devices.
pub const DSDT_ADDR: u64 = ACPI_START + 0x1000;

/// The most vCPUs the MADT describes: as in the MP table, 8-bit APIC
/// ids without the broadcast id 0xff and the IOAPIC's id.
pub const MAX_VCPUS: u8 = super::mptable::MAX_VCPUS;

/// The RSDP's size (ACPI 2.0+).
const RSDP_LEN: u64 = 36;
/// The size of every table's header.
const HEADER_LEN: usize = 36;
/// The XSDT's size: its header and two 64-bit pointers (FADT, MADT).
const XSDT_LEN: u64 = HEADER_LEN as u64 + 2 * 8;
/// The FADT's size at revision 6 (up to the hypervisor vendor identity).
const FADT_LEN: u64 = 276;
/// The MADT's header: the table header, the local APIC address, flags.
const MADT_HEADER_LEN: usize = HEADER_LEN + 8;
/// MADT entry sizes: a processor local APIC, an IOAPIC, a local APIC NMI.
const LOCAL_APIC_LEN: usize = 8;
const IOAPIC_LEN: usize = 12;
const LAPIC_NMI_LEN: usize = 6;

/// The MADT's size for `vcpus` vCPUs.
pub const fn madt_len(vcpus: u8) -> usize {
    MADT_HEADER_LEN + LOCAL_APIC_LEN * vcpus as usize + IOAPIC_LEN + LAPIC_NMI_LEN
}

// Each table ends before the next begins, for the most vCPUs too.
const _: () = assert!(RSDP_ADDR + RSDP_LEN <= XSDT_ADDR);
const _: () = assert!(XSDT_ADDR + XSDT_LEN <= FADT_ADDR);
const _: () = assert!(FADT_ADDR + FADT_LEN <= MADT_ADDR);
const _: () = assert!(MADT_ADDR + madt_len(MAX_VCPUS) as u64 <= DSDT_ADDR);
const _: () = assert!(DSDT_ADDR < HIMEM_START && RSDP_ADDR.is_multiple_of(16));
// The MP table, for the most vCPUs, ends below the RSDP.
const _: () = assert!(MPTABLE_START + super::mptable::table_len(MAX_VCPUS) as u64 <= RSDP_ADDR);

/// Who made the tables: the OEM id of every header, and one OEM table id
/// for all (the FADT's must match the XSDT's).
const OEM_ID: [u8; 6] = *b"LUMEN ";
const OEM_TABLE_ID: [u8; 8] = *b"LUMEN VM";
const OEM_REVISION: u32 = 1;
/// The FADT's hypervisor vendor identity (ACPI 6.0).
const HYPERVISOR_VENDOR: [u8; 8] = *b"LUMENKVM";

/// Table revisions: the MADT of ACPI 6.3 and later; a DSDT revision of 2
/// or more makes AML integers 64 bits wide.
const MADT_REVISION: u8 = 5;
const DSDT_REVISION: u8 = 2;

/// MADT flag: the system also has 8259s (spec table 5.44).
const PCAT_COMPAT: u32 = 1;
/// MADT entry type of a local APIC NMI, and its fields: every processor
/// (UID 0xff), polarity and trigger "conform to the bus", on LINT1, as
/// `cpu::set_lint` wires it.
const MADT_LAPIC_NMI: u8 = 4;
const ALL_PROCESSORS: u8 = 0xff;
const NMI_FLAGS_CONFORM: u16 = 0;
const NMI_LINT: u8 = 1;

/// IA-PC boot architecture flags (FADT `IAPC_BOOT_ARCH`, spec table
/// 5.11). Unset: "legacy devices" (bit 0; it only stops Linux asking the
/// PnP BIOS) and "8042" (bit 1; see the module docs).
const IAPC_VGA_NOT_PRESENT: u16 = 1 << 2;
const IAPC_MSI_NOT_SUPPORTED: u16 = 1 << 3;
/// "The OS must not enable ASPM control": there is no PCIe to manage.
const IAPC_PCIE_ASPM_CONTROLS: u16 = 1 << 4;
const IAPC_CMOS_RTC_NOT_PRESENT: u16 = 1 << 5;

/// The Linux `virtio_mmio` driver's ACPI id.
const VIRTIO_MMIO_HID: &str = "LNRO0005";
/// A 16550-compatible serial port's PnP id.
const SERIAL_HID: &str = "PNP0501";
/// COM1's eight registers.
const SERIAL_PORTS: u8 = 8;
// Devices are named `V000`, `V001`…: AML names have four characters.
const _: () = assert!(VIRTIO_MMIO_SLOTS <= 1000);

/// A virtio-mmio transport as the DSDT describes it: its register
/// window (`VIRTIO_MMIO_SIZE` bytes at `base`) and the GSI it raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VirtioMmio {
    pub base: u64,
    pub gsi: u32,
}

/// Why the ACPI tables could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum AcpiError {
    #[error("the ACPI tables need at least one vCPU")]
    NoVcpus,
    #[error(
        "{vcpus} vCPUs: the MADT describes at most {MAX_VCPUS} \
         (8-bit APIC ids, 0xff is broadcast, and the IOAPIC takes one)"
    )]
    TooManyVcpus { vcpus: u8 },
    #[error("{devices} virtio-mmio devices: the DSDT describes at most {VIRTIO_MMIO_SLOTS}")]
    TooManyDevices { devices: usize },
    #[error("virtio-mmio device {index} at 0x{base:x}: its window is not below 4 GiB, which the DSDT's Memory32Fixed needs")]
    DeviceAbove4Gib { index: usize, base: u64 },
    #[error("the DSDT of {len} bytes at 0x{DSDT_ADDR:x} runs past 1 MiB")]
    DsdtTooBig { len: usize },
    #[error("writing the ACPI tables at 0x{ACPI_START:x}: {0}")]
    Memory(#[from] GuestMemoryError),
}

/// The tables' bytes, each to be written at its `*_ADDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcpiTables {
    pub rsdp: Vec<u8>,
    pub xsdt: Vec<u8>,
    pub fadt: Vec<u8>,
    pub madt: Vec<u8>,
    pub dsdt: Vec<u8>,
}

impl AcpiTables {
    /// Each table with the guest address it belongs at.
    pub fn placed(&self) -> [(u64, &[u8]); 5] {
        [
            (RSDP_ADDR, &self.rsdp),
            (XSDT_ADDR, &self.xsdt),
            (FADT_ADDR, &self.fadt),
            (MADT_ADDR, &self.madt),
            (DSDT_ADDR, &self.dsdt),
        ]
    }
}

/// Write the tables for `vcpus` vCPUs and the virtio-mmio `devices`
/// (in slot order) into `mem`; the RSDP's address, for the zero page.
pub fn write(mem: &GuestMemoryMmap, vcpus: u8, devices: &[VirtioMmio]) -> Result<u64, AcpiError> {
    let tables = tables(vcpus, devices)?;
    for (addr, bytes) in tables.placed() {
        mem.write_slice(bytes, GuestAddress(addr))?;
    }
    Ok(RSDP_ADDR)
}

/// The tables [`write()`] puts in guest memory.
pub fn tables(vcpus: u8, devices: &[VirtioMmio]) -> Result<AcpiTables, AcpiError> {
    if vcpus == 0 {
        return Err(AcpiError::NoVcpus);
    }
    if vcpus > MAX_VCPUS {
        return Err(AcpiError::TooManyVcpus { vcpus });
    }
    let dsdt = dsdt(devices)?;
    if DSDT_ADDR + dsdt.len() as u64 > HIMEM_START {
        return Err(AcpiError::DsdtTooBig { len: dsdt.len() });
    }
    let mut rsdp = Vec::new();
    Rsdp::new(OEM_ID, XSDT_ADDR).to_aml_bytes(&mut rsdp);
    let mut xsdt_table = XSDT::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    xsdt_table.add_entry(FADT_ADDR);
    xsdt_table.add_entry(MADT_ADDR);
    let mut xsdt = Vec::new();
    xsdt_table.to_aml_bytes(&mut xsdt);
    Ok(AcpiTables {
        rsdp,
        xsdt,
        fadt: fadt(),
        madt: madt(vcpus),
        dsdt,
    })
}

/// The FADT: hardware-reduced, pointing at the DSDT by its 64-bit field
/// (ACPICA prefers it; the 32-bit one stays 0 so the two cannot disagree).
fn fadt() -> Vec<u8> {
    let mut fadt = FADTBuilder::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION)
        .dsdt_64(DSDT_ADDR)
        .flag(Flags::HwReducedAcpi)
        // The power and sleep buttons are not fixed-feature hardware
        // (there are none at all).
        .flag(Flags::PwrButton)
        .flag(Flags::SlpButton);
    fadt.iapc_boot_arch = (IAPC_VGA_NOT_PRESENT
        | IAPC_MSI_NOT_SUPPORTED
        | IAPC_PCIE_ASPM_CONTROLS
        | IAPC_CMOS_RTC_NOT_PRESENT)
        .into();
    fadt.hypervisor_vendor_identity = u64::from_le_bytes(HYPERVISOR_VENDOR).into();
    let mut bytes = Vec::new();
    fadt.finalize().to_aml_bytes(&mut bytes);
    bytes
}

/// The MADT for `vcpus` vCPUs (checked to be 1..=[`MAX_VCPUS`]).
fn madt(vcpus: u8) -> Vec<u8> {
    let mut madt = Sdt::new(
        *b"APIC",
        MADT_HEADER_LEN as u32,
        MADT_REVISION,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    madt.write_u32(HEADER_LEN, LAPIC_ADDR as u32);
    madt.write_u32(HEADER_LEN + 4, PCAT_COMPAT);
    let mut entries = Vec::with_capacity(madt_len(vcpus) - MADT_HEADER_LEN);
    // Processor UIDs equal the APIC ids, which are the vCPU indexes
    // `cpu::vcpu_cpuid` gives; the IOAPIC takes the first id after them.
    for id in 0..vcpus {
        ProcessorLocalApic::new(id, id, EnabledStatus::Enabled).to_aml_bytes(&mut entries);
    }
    IoApic::new(vcpus, IOAPIC_ADDR as u32, 0).to_aml_bytes(&mut entries);
    entries.extend_from_slice(&[MADT_LAPIC_NMI, LAPIC_NMI_LEN as u8, ALL_PROCESSORS]);
    entries.extend_from_slice(&NMI_FLAGS_CONFORM.to_le_bytes());
    entries.push(NMI_LINT);
    madt.append_slice(&entries);
    debug_assert_eq!(madt.len(), madt_len(vcpus));
    madt.as_slice().to_vec()
}

/// The DSDT: COM1 and the virtio-mmio `devices`, under `\_SB_`.
fn dsdt(devices: &[VirtioMmio]) -> Result<Vec<u8>, AcpiError> {
    if devices.len() as u64 > VIRTIO_MMIO_SLOTS {
        return Err(AcpiError::TooManyDevices {
            devices: devices.len(),
        });
    }
    let mut windows = Vec::with_capacity(devices.len());
    for (index, device) in devices.iter().enumerate() {
        let base = u32::try_from(device.base)
            .ok()
            .filter(|b| u64::from(*b) + VIRTIO_MMIO_SIZE <= 1 << 32)
            .ok_or(AcpiError::DeviceAbove4Gib {
                index,
                base: device.base,
            })?;
        windows.push((index as u32, base, device.gsi));
    }

    let serial_io = aml::IO::new(SERIAL_PORT, SERIAL_PORT, 1, SERIAL_PORTS);
    let serial_irq = edge_interrupt(SERIAL_IRQ);
    let serial_crs = aml::ResourceTemplate::new(vec![&serial_io, &serial_irq]);
    let serial_hid = aml::EISAName::new(SERIAL_HID);
    let serial_uid = aml::ZERO;
    let serial_hid = aml::Name::new("_HID".into(), &serial_hid);
    let serial_uid = aml::Name::new("_UID".into(), &serial_uid);
    let serial_crs = aml::Name::new("_CRS".into(), &serial_crs);
    let serial = aml::Device::new("COM1".into(), vec![&serial_hid, &serial_uid, &serial_crs]);

    let mut virtio: Vec<Vec<u8>> = Vec::with_capacity(windows.len());
    for &(index, base, gsi) in &windows {
        let window = aml::Memory32Fixed::new(true, base, VIRTIO_MMIO_SIZE as u32);
        let irq = edge_interrupt(gsi);
        let crs = aml::ResourceTemplate::new(vec![&window, &irq]);
        let hid = aml::Name::new("_HID".into(), &VIRTIO_MMIO_HID);
        let uid = aml::Name::new("_UID".into(), &index);
        let crs = aml::Name::new("_CRS".into(), &crs);
        // At most VIRTIO_MMIO_SLOTS devices (checked above), so three
        // digits always do.
        let name = format!("V{index:03}");
        let mut bytes = Vec::new();
        aml::Device::new(name.as_str().into(), vec![&hid, &uid, &crs]).to_aml_bytes(&mut bytes);
        virtio.push(bytes);
    }
    let virtio: Vec<RawAml> = virtio.iter().map(|d| RawAml(d)).collect();
    let mut children: Vec<&dyn Aml> = vec![&serial];
    children.extend(virtio.iter().map(|d| d as &dyn Aml));
    // `_SB_` at the top of the DSDT is `\_SB_` (the definition block is
    // the root scope), and it is how iasl itself encodes `Scope (\_SB)`.
    let scope = aml::Scope::new("_SB_".into(), children);

    let mut dsdt = Sdt::new(
        *b"DSDT",
        HEADER_LEN as u32,
        DSDT_REVISION,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    let mut body = Vec::new();
    scope.to_aml_bytes(&mut body);
    dsdt.append_slice(&body);
    Ok(dsdt.as_slice().to_vec())
}

/// `Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {gsi}`: the
/// 8250's line and virtio's irqfds are edge-triggered and active high.
fn edge_interrupt(gsi: u32) -> aml::Interrupt {
    aml::Interrupt::new(true, true, false, false, gsi)
}

/// AML already encoded, as a child of a scope (the crate's objects
/// borrow their children, so each device is encoded first).
struct RawAml<'a>(&'a [u8]);

impl Aml for RawAml<'_> {
    fn to_aml_bytes(&self, sink: &mut dyn AmlSink) {
        sink.vec(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    fn sum(b: &[u8]) -> u8 {
        b.iter().fold(0u8, |s, x| s.wrapping_add(*x))
    }

    fn memory() -> GuestMemoryMmap {
        GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap()
    }

    fn devices(n: u32) -> Vec<VirtioMmio> {
        (0..n)
            .map(|i| VirtioMmio {
                base: 0xd000_0000 + u64::from(i) * 0x1000,
                gsi: 5 + i,
            })
            .collect()
    }

    /// The table at `addr` in `mem`, read as the kernel reads one: its
    /// header's length says how much, and every byte sums to 0.
    fn table_at(mem: &GuestMemoryMmap, addr: u64, signature: &[u8; 4]) -> Vec<u8> {
        let mut header = [0u8; HEADER_LEN];
        mem.read_slice(&mut header, GuestAddress(addr)).unwrap();
        assert_eq!(&header[..4], signature, "signature at 0x{addr:x}");
        let mut table = vec![0u8; u32_at(&header, 4) as usize];
        mem.read_slice(&mut table, GuestAddress(addr)).unwrap();
        assert_eq!(
            sum(&table),
            0,
            "{} checksum",
            String::from_utf8_lossy(signature)
        );
        assert_eq!(&table[10..16], b"LUMEN ", "OEM id");
        assert_eq!(&table[16..24], b"LUMEN VM", "OEM table id");
        table
    }

    /// The RSDP at its address: both checksums, and the XSDT it points at.
    fn rsdp_of(mem: &GuestMemoryMmap) -> u64 {
        let mut rsdp = [0u8; 36];
        mem.read_slice(&mut rsdp, GuestAddress(0xe_0000)).unwrap();
        assert_eq!(&rsdp[..8], b"RSD PTR ");
        assert_eq!(sum(&rsdp[..20]), 0, "ACPI 1.0 checksum (first 20 bytes)");
        assert_eq!(sum(&rsdp), 0, "extended checksum (all 36 bytes)");
        assert_eq!(rsdp[15], 2, "revision 2: ACPI 2.0+, with an XSDT");
        assert_eq!(u32_at(&rsdp, 16), 0, "no RSDT");
        assert_eq!(u32_at(&rsdp, 20), 36, "length");
        u64_at(&rsdp, 24)
    }

    /// An MADT entry: its type, and the fields each type has.
    #[derive(Debug, PartialEq, Eq)]
    enum MadtEntry {
        LocalApic { uid: u8, apic_id: u8, flags: u32 },
        IoApic { id: u8, addr: u32, gsi_base: u32 },
        LocalApicNmi { uid: u8, flags: u16, lint: u8 },
    }

    /// Walk the MADT's entries as Linux's `acpi_table_parse_madt` does:
    /// each says its own length.
    fn madt_entries(madt: &[u8]) -> Vec<MadtEntry> {
        let mut entries = Vec::new();
        let mut i = MADT_HEADER_LEN;
        while i < madt.len() {
            let e = &madt[i..];
            let len = usize::from(e[1]);
            entries.push(match (e[0], len) {
                (0, 8) => MadtEntry::LocalApic {
                    uid: e[2],
                    apic_id: e[3],
                    flags: u32_at(e, 4),
                },
                (1, 12) => MadtEntry::IoApic {
                    id: e[2],
                    addr: u32_at(e, 4),
                    gsi_base: u32_at(e, 8),
                },
                (4, 6) => MadtEntry::LocalApicNmi {
                    uid: e[2],
                    flags: u16_at(e, 3),
                    lint: e[5],
                },
                (t, l) => panic!("unexpected MADT entry type {t} of {l} bytes at {i}"),
            });
            i += len;
        }
        assert_eq!(i, madt.len(), "entries end where the table does");
        entries
    }

    /// Write the tables for `vcpus` and `n` devices, then follow them
    /// from the RSDP as a kernel would, checking each.
    fn check(vcpus: u8, n: u32) {
        let mem = memory();
        assert_eq!(write(&mem, vcpus, &devices(n)).unwrap(), 0xe_0000);

        let xsdt = table_at(&mem, rsdp_of(&mem), b"XSDT");
        assert_eq!(xsdt.len(), 36 + 2 * 8);
        assert_eq!(xsdt[8], 1, "XSDT revision");
        let pointers: Vec<u64> = (36..xsdt.len())
            .step_by(8)
            .map(|at| u64_at(&xsdt, at))
            .collect();
        assert_eq!(pointers, [FADT_ADDR, MADT_ADDR]);

        let fadt = table_at(&mem, pointers[0], b"FACP");
        assert_eq!(fadt.len(), 276, "FADT revision 6 size");
        assert_eq!((fadt[8], fadt[131]), (6, 5), "FADT revision 6.5");
        let flags = u32_at(&fadt, 112);
        assert_eq!(flags & (1 << 20), 1 << 20, "HW_REDUCED_ACPI");
        assert_eq!(flags & (3 << 4), 3 << 4, "no fixed-feature buttons");
        assert_eq!(u16_at(&fadt, 109), 0b11_1100, "IAPC_BOOT_ARCH");
        assert_eq!(u32_at(&fadt, 36), 0, "no FACS (hardware-reduced)");
        assert_eq!(u32_at(&fadt, 40), 0, "32-bit DSDT pointer unused");
        assert_eq!(u64_at(&fadt, 140), DSDT_ADDR, "X_DSDT");
        assert_eq!(&fadt[268..276], b"LUMENKVM");

        let dsdt = table_at(&mem, u64_at(&fadt, 140), b"DSDT");
        assert_eq!(dsdt[8], 2, "DSDT revision 2: 64-bit AML integers");
        let count = |needle: &[u8]| dsdt.windows(needle.len()).filter(|w| *w == needle).count();
        assert_eq!(
            count(b"LNRO0005\0"),
            n as usize,
            "one virtio-mmio device each"
        );
        assert_eq!(count(b"_SB_"), 1);
        assert_eq!(count(b"COM1"), 1);

        let madt = table_at(&mem, pointers[1], b"APIC");
        assert_eq!(madt.len(), madt_len(vcpus));
        assert_eq!(madt[8], 5, "MADT revision");
        assert_eq!(u32_at(&madt, 36), 0xfee0_0000, "local APIC address");
        assert_eq!(u32_at(&madt, 40), 1, "PCAT_COMPAT");
        let mut want: Vec<MadtEntry> = (0..vcpus)
            .map(|id| MadtEntry::LocalApic {
                uid: id,
                apic_id: id,
                flags: 1,
            })
            .collect();
        want.push(MadtEntry::IoApic {
            id: vcpus,
            addr: 0xfec0_0000,
            gsi_base: 0,
        });
        want.push(MadtEntry::LocalApicNmi {
            uid: 0xff,
            flags: 0,
            lint: 1,
        });
        // No Interrupt Source Override (type 2): IRQ 0 is on pin 0.
        assert_eq!(madt_entries(&madt), want);
    }

    #[test]
    fn one_vcpu_no_devices() {
        check(1, 0);
    }

    #[test]
    fn two_vcpus_three_devices() {
        check(2, 3);
    }

    #[test]
    fn eight_vcpus_every_slot() {
        check(8, VIRTIO_MMIO_SLOTS as u32);
    }

    #[test]
    fn the_most_vcpus_fit_before_the_dsdt() {
        check(MAX_VCPUS, 8);
        let t = tables(MAX_VCPUS, &devices(8)).unwrap();
        assert_eq!(t.madt.len(), 44 + 254 * 8 + 12 + 6);
        for pair in t.placed().windows(2) {
            let ((at, bytes), (next, _)) = (pair[0], pair[1]);
            assert!(
                at + bytes.len() as u64 <= next,
                "0x{at:x} overlaps 0x{next:x}"
            );
        }
        let (dsdt, bytes) = t.placed()[4];
        assert!(dsdt + bytes.len() as u64 <= HIMEM_START);
    }

    #[test]
    fn the_rsdp_is_where_linux_scans_after_the_mp_table() {
        // acpi_find_root_pointer scans 0xe0000..0xfffff on 16-byte
        // boundaries; the e820 map has no RAM there.
        assert!((0xe_0000..0x10_0000).contains(&RSDP_ADDR));
        assert_eq!(RSDP_ADDR % 16, 0);
        let e820 = super::super::linux::e820_map(64 * MIB);
        assert!(e820
            .iter()
            .all(|&(at, len, _)| at + len <= MPTABLE_START || at >= HIMEM_START));
    }

    #[test]
    fn the_dsdt_describes_each_device_with_its_window_and_gsi() {
        let dsdt = tables(1, &devices(2)).unwrap().dsdt;
        // Memory32Fixed (ReadWrite, base, 4 KiB), then the extended
        // interrupt descriptor (consumer, edge, active high, exclusive).
        for (base, gsi) in [(0xd000_0000u32, 5u32), (0xd000_1000, 6)] {
            let mut crs = vec![0x86, 9, 0, 1];
            crs.extend_from_slice(&base.to_le_bytes());
            crs.extend_from_slice(&0x1000u32.to_le_bytes());
            crs.extend_from_slice(&[0x89, 6, 0, 0b0011, 1]);
            crs.extend_from_slice(&gsi.to_le_bytes());
            assert!(
                dsdt.windows(crs.len()).any(|w| w == crs),
                "device at 0x{base:x}"
            );
        }
        // COM1: IO (Decode16, 0x3f8, 0x3f8, 1, 8) and interrupt 4.
        let mut com1 = vec![0x47, 1, 0xf8, 3, 0xf8, 3, 1, 8];
        com1.extend_from_slice(&[0x89, 6, 0, 0b0011, 1, 4, 0, 0, 0]);
        assert!(dsdt.windows(com1.len()).any(|w| w == com1));
    }

    #[test]
    fn bad_vcpu_counts_and_devices_are_refused() {
        assert!(matches!(tables(0, &[]), Err(AcpiError::NoVcpus)));
        let err = tables(255, &[]).unwrap_err();
        assert!(
            matches!(err, AcpiError::TooManyVcpus { vcpus: 255 }),
            "{err:?}"
        );
        assert!(err.to_string().contains("at most 254"), "{err}");
        let err = tables(1, &devices(9)).unwrap_err();
        assert!(
            matches!(err, AcpiError::TooManyDevices { devices: 9 }),
            "{err:?}"
        );
        for base in [0xffff_f001, 0x1_0000_0000] {
            let err = tables(1, &[VirtioMmio { base, gsi: 5 }]).unwrap_err();
            assert!(
                matches!(err, AcpiError::DeviceAbove4Gib { index: 0, base: b } if b == base),
                "{err:?}"
            );
        }
        // The last window below 4 GiB is fine.
        tables(
            1,
            &[VirtioMmio {
                base: 0xffff_f000,
                gsi: 5,
            }],
        )
        .unwrap();
    }

    #[test]
    fn memory_without_the_bios_area_is_an_error() {
        let small = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0xa_0000)]).unwrap();
        assert!(matches!(write(&small, 1, &[]), Err(AcpiError::Memory(_))));
    }
}
