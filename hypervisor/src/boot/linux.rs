//! Linux's 64-bit boot protocol: a bzImage or ELF vmlinux copied into guest
//! memory with its initrd and command line, and the zero page
//! (`struct boot_params`) that tells the kernel where they are.
//!
//! The VMM puts the vCPU in long mode with [`crate::cpu`]'s tables (their
//! identity map covers all of low RAM, so everything placed here) and
//! enters at the returned [`Entry`]: `rip` is the kernel's 64-bit entry and
//! `rsi` the zero page, as "64-bit Boot Protocol" in the kernel's
//! `Documentation/arch/x86/boot.rst` requires.
//!
//! Guest memory after [`load`]:
//!
//! | address                 | what                                                  |
//! |-------------------------|-------------------------------------------------------|
//! | `ZERO_PAGE_ADDR` 0x7000 | the zero page                                         |
//! | 0x8000..`BOOT_STACK_TOP`| the boot stack                                        |
//! | `CMDLINE_ADDR` 0x20000  | the command line, NUL-terminated                      |
//! | `HIMEM_START` 1 MiB     | a bzImage's protected-mode part (its 64-bit entry is at +0x200); it decompresses itself to `pref_address`, 16 MiB on distribution kernels |
//! | the ELF's `p_paddr`s    | an ELF vmlinux's segments (16 MiB on distribution kernels) |
//! | near the top of low RAM | the initrd, as high as the kernel allows              |

use super::{payload, BootError, Entry};
use crate::layout::{
    self, CMDLINE_ADDR, CMDLINE_MAX, EBDA_START, HIMEM_START, MMIO_HOLE_START, PML4_ADDR,
    ZERO_PAGE_ADDR,
};
use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bootparam::{
    boot_e820_entry, boot_params, setup_header, E820_MAX_ENTRIES_ZEROPAGE, XLF_KERNEL_64,
};
use linux_loader::loader::{bzimage::BzImage, elf::Elf, KernelLoader};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use vm_memory::{ByteValued, Bytes, GuestAddress, GuestMemoryError, GuestMemoryMmap};

/// The boot stack's top: in the page after the zero page, below the page
/// tables. Both 64-bit entry points switch to their own stack within a
/// few instructions; this one only has to be valid RAM nothing else uses.
pub const BOOT_STACK_TOP: u64 = 0x8ff0;
const _: () = assert!(BOOT_STACK_TOP >= ZERO_PAGE_ADDR + 0x1000 && BOOT_STACK_TOP < PML4_ADDR);

/// The e820 type of usable RAM.
pub const E820_RAM: u32 = 1;

/// Where the setup header starts, in a bzImage and in the zero page alike.
const SETUP_HEADER_OFFSET: usize = 0x1f1;
/// The jump instruction whose target ends the setup header; its
/// displacement byte follows it.
const JUMP_OFFSET: usize = 0x200;
/// Where a bzImage carries "HdrS"; the jump above lands relative to here.
const HDRS_OFFSET: usize = 0x202;
/// "HdrS", little-endian.
const HDRS_MAGIC: u32 = 0x5372_6448;
/// The boot sector signature the setup header carries at 0x1fe.
const BOOT_FLAG: u16 = 0xaa55;
/// Protocol 2.12 is the first with a 64-bit entry point (announced by
/// `XLF_KERNEL_64` in `xloadflags`, which 2.12 introduced).
const PROTOCOL_64BIT: u16 = 0x020c;
/// How far the 64-bit entry (`startup_64`) lies into the protected-mode part.
const STARTUP_64_OFFSET: u64 = 0x200;
/// `type_of_loader` for a loader without an assigned id.
const LOADER_UNDEFINED: u8 = 0xff;
/// `kernel_alignment` when the kernel states none (as for an ELF vmlinux):
/// x86-64's default `CONFIG_PHYSICAL_ALIGN`.
const DEFAULT_KERNEL_ALIGNMENT: u32 = 0x0100_0000;
/// `initrd_addr_max` when the kernel states none: the boot protocol's
/// fixed limit for kernels before 2.03, kept for an ELF vmlinux and any
/// bzImage whose field is 0.
const DEFAULT_INITRD_ADDR_MAX: u32 = 0x37ff_ffff;
/// The longest command line x86 Linux takes, NUL excluded
/// (`COMMAND_LINE_SIZE` - 1): what every bzImage states as `cmdline_size`,
/// and what an ELF vmlinux, which states nothing, is held to.
const X86_CMDLINE_SIZE: u32 = 0x7ff;
/// `vid_mode` "normal": the 80x25 text mode, no mode change.
const VID_MODE_NORMAL: u16 = 0xffff;
const PAGE_SIZE: u64 = 0x1000;
/// How much of a kernel file tells its format and holds a bzImage's setup
/// header (which ends before 0x1f1 + 0x7b).
const HEAD_LEN: u64 = 0x400;

/// A kernel image's format, told from its first bytes.
enum Format {
    /// An ELF vmlinux: segments at their physical addresses, entered at `e_entry`.
    Elf,
    /// A bzImage and its setup header: only the fields its protocol
    /// version defines, the rest zero.
    BzImage(setup_header),
}

/// Load `kernel` (bzImage or ELF vmlinux: told apart by their magic
/// numbers), `initrd` and `cmdline` into `mem`, a VM of `ram` bytes whose
/// RAM regions are [`layout::ram_regions`], and write the zero page that
/// describes them, with the address of the ACPI RSDP if the VMM wrote
/// ACPI tables ([`super::acpi`]). The VMM enters the kernel at the
/// returned [`Entry`] in long mode.
pub fn load(
    mem: &GuestMemoryMmap,
    ram: u64,
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
    acpi_rsdp: Option<u64>,
) -> Result<Entry, BootError> {
    // Boot structures, kernel and initrd all live below the device hole:
    // the 64-bit entry points only promise to handle what the boot loader
    // put under 4 GiB, and the initrd limit is below that anyway.
    let low_end = ram.min(MMIO_HOLE_START);
    let mut file = File::open(kernel).map_err(|source| read_error(kernel, source))?;
    let format = detect(kernel, &read_head(kernel, &mut file)?)?;

    let hdr = match &format {
        Format::BzImage(hdr) => *hdr,
        Format::Elf => elf_setup_header(),
    };
    // Checked before the kernel is copied, as the cheapest failure; a
    // longer line would be cut short by the kernel without a word.
    let cmdline_max = (hdr.cmdline_size as usize).min(CMDLINE_MAX - 1);
    if cmdline.len() > cmdline_max {
        return Err(BootError::CmdlineTooLong {
            len: cmdline.len(),
            max: cmdline_max,
        });
    }

    let (rip, kernel_end) = match format {
        Format::BzImage(_) => {
            let end = load_bzimage(mem, kernel, &mut file, &hdr, low_end)?;
            (HIMEM_START + STARTUP_64_OFFSET, end)
        }
        Format::Elf => load_elf(mem, kernel, &mut file, low_end)?,
    };
    payload::write_cmdline(mem, cmdline)?;

    let initrd = match initrd {
        Some(path) => {
            let max = match hdr.initrd_addr_max {
                0 => DEFAULT_INITRD_ADDR_MAX,
                max => max,
            };
            // `initrd_addr_max` is the last byte the initrd may occupy.
            let limit = low_end.min(u64::from(max) + 1);
            Some(load_initrd(mem, path, kernel_end, limit)?)
        }
        None => None,
    };

    let params = zero_page(hdr, initrd, ram, acpi_rsdp);
    LinuxBootConfigurator::write_bootparams::<GuestMemoryMmap>(
        &BootParams::new(&params, GuestAddress(ZERO_PAGE_ADDR)),
        mem,
    )
    // It fails only when the zero page's address is not in `mem`.
    .map_err(|_| GuestMemoryError::InvalidGuestAddress(GuestAddress(ZERO_PAGE_ADDR)))?;

    Ok(Entry {
        rip,
        rsp: BOOT_STACK_TOP,
        rdi: 0,
        rsi: ZERO_PAGE_ADDR,
    })
}

/// The guest's e820 map for `ram` bytes: the RAM of
/// [`layout::ram_regions`] without the PC's legacy hole
/// [`EBDA_START`]..[`HIMEM_START`] (EBDA, VGA memory, ROMs: Linux reserves
/// it on any PC, and nothing of ours lives there). Entries are
/// `(address, size, type)`.
pub fn e820_map(ram: u64) -> Vec<(u64, u64, u32)> {
    let mut map = Vec::new();
    for (start, size) in layout::ram_regions(ram) {
        let end = start + size;
        for (from, to) in [(start, end.min(EBDA_START)), (start.max(HIMEM_START), end)] {
            if from < to {
                map.push((from, to - from, E820_RAM));
            }
        }
    }
    map
}

/// The first [`HEAD_LEN`] bytes of `file` (fewer if it is shorter).
fn read_head(path: &Path, file: &mut File) -> Result<Vec<u8>, BootError> {
    let mut head = Vec::new();
    file.take(HEAD_LEN)
        .read_to_end(&mut head)
        .map_err(|source| read_error(path, source))?;
    Ok(head)
}

/// Tell an ELF vmlinux from a bzImage by their magic numbers, and refuse
/// what neither boots in 64-bit mode.
fn detect(path: &Path, head: &[u8]) -> Result<Format, BootError> {
    if head.is_empty() {
        return Err(BootError::Empty {
            path: path.to_owned(),
        });
    }
    if head.starts_with(b"\x7fELF") {
        // linux-loader reads any ELF as ELF64 for the host; check what it doesn't.
        const ELFCLASS64: u8 = 2;
        const EM_X86_64: u16 = 62;
        if head.get(4) != Some(&ELFCLASS64) {
            return Err(kernel_error(
                path,
                "a 32-bit ELF; Lumen boots 64-bit kernels",
            ));
        }
        let machine = head.get(18..20).map(|b| u16::from_le_bytes([b[0], b[1]]));
        if machine != Some(EM_X86_64) {
            return Err(kernel_error(path, "an ELF for another machine than x86-64"));
        }
        return Ok(Format::Elf);
    }
    if head.get(HDRS_OFFSET..HDRS_OFFSET + 4) == Some(&HDRS_MAGIC.to_le_bytes()[..]) {
        return setup_header_of(path, head).map(Format::BzImage);
    }
    Err(kernel_error(
        path,
        "neither an ELF vmlinux (no \\x7fELF at 0) nor a bzImage (no \"HdrS\" at 0x202)",
    ))
}

/// A bzImage's setup header, checked for the 64-bit entry point.
fn setup_header_of(path: &Path, head: &[u8]) -> Result<setup_header, BootError> {
    // The header ends where the jump at 0x200 lands; later fields belong
    // to newer protocols, and in this image those bytes are setup code.
    let declared_end = HDRS_OFFSET + usize::from(head[JUMP_OFFSET + 1]);
    let end = declared_end
        .min(SETUP_HEADER_OFFSET + std::mem::size_of::<setup_header>())
        .min(head.len());
    let mut hdr = setup_header::default();
    hdr.as_mut_slice()[..end - SETUP_HEADER_OFFSET]
        .copy_from_slice(&head[SETUP_HEADER_OFFSET..end]);

    let version = hdr.version;
    if version < PROTOCOL_64BIT {
        return Err(kernel_error(
            path,
            format!(
                "boot protocol {}.{:02} predates 2.12, the first with a 64-bit entry point",
                version >> 8,
                version & 0xff
            ),
        ));
    }
    if hdr.xloadflags & XLF_KERNEL_64 == 0 {
        return Err(kernel_error(
            path,
            "no 64-bit entry point (XLF_KERNEL_64 is clear in xloadflags: a 32-bit kernel?)",
        ));
    }
    Ok(hdr)
}

/// The setup header an ELF vmlinux would have, which has none: the
/// limits every 64-bit x86 kernel keeps, so that the command line and
/// initrd are held to them and the zero page states them.
fn elf_setup_header() -> setup_header {
    setup_header {
        cmdline_size: X86_CMDLINE_SIZE,
        // The kernel's real limit is higher, but it states none here.
        initrd_addr_max: DEFAULT_INITRD_ADDR_MAX,
        kernel_alignment: DEFAULT_KERNEL_ALIGNMENT,
        ..Default::default()
    }
}

/// Copy a bzImage's protected-mode part to [`HIMEM_START`]; the end of
/// the memory the kernel uses while it starts, which must be low RAM.
fn load_bzimage(
    mem: &GuestMemoryMmap,
    path: &Path,
    file: &mut File,
    hdr: &setup_header,
    low_end: u64,
) -> Result<u64, BootError> {
    // The real-mode part (boot sector and setup sectors, 4 if the header
    // says 0) is for 16-bit entry; the 64-bit entry skips it.
    let setup_sects = match hdr.setup_sects {
        0 => 4,
        n => u64::from(n),
    };
    let setup_len = (setup_sects + 1) * 512;
    let file_len = file
        .metadata()
        .map_err(|source| read_error(path, source))?
        .len();
    let kernel_len = match file_len.checked_sub(setup_len) {
        Some(len) if len > 0 => len,
        _ => {
            return Err(kernel_error(
                path,
                format!("{file_len} bytes: nothing after its {setup_len} bytes of setup code"),
            ))
        }
    };
    let end = bzimage_end(hdr, kernel_len);
    if end > low_end {
        return Err(kernel_error(
            path,
            format!(
                "it needs RAM up to 0x{end:x} to decompress itself (init_size 0x{:x}), \
                 but low RAM ends at 0x{low_end:x}",
                { hdr.init_size }
            ),
        ));
    }
    // No "high memory start" check: it compares code32_start, the 32-bit
    // entry, which this entry doesn't use.
    BzImage::load(mem, Some(GuestAddress(HIMEM_START)), file, None)
        .map_err(|e| kernel_error(path, e))?;
    Ok(end)
}

/// The end of the memory a bzImage of `kernel_len` protected-mode bytes
/// at [`HIMEM_START`] uses before it reads the e820 map: itself, and the
/// `init_size` bytes it decompresses into. `startup_64` puts that buffer
/// at its load address rounded up to `kernel_alignment` but not below
/// `LOAD_PHYSICAL_ADDR` (relocatable kernels), or at `LOAD_PHYSICAL_ADDR`
/// (the rest); `pref_address` is `LOAD_PHYSICAL_ADDR`, so the larger of
/// the two bounds both. An initrd must lie above this, or the
/// decompressor overwrites it.
fn bzimage_end(hdr: &setup_header, kernel_len: u64) -> u64 {
    let align = u64::from(kernel_alignment(hdr));
    let buffer = HIMEM_START.next_multiple_of(align).max(hdr.pref_address);
    (HIMEM_START + kernel_len).max(buffer.saturating_add(u64::from(hdr.init_size)))
}

/// The `kernel_alignment` the zero page carries: `startup_64` reads it
/// there to place its decompressed kernel, and 0 would make its mask all
/// ones, so a kernel that states none gets the default.
fn kernel_alignment(hdr: &setup_header) -> u32 {
    match hdr.kernel_alignment {
        0 => DEFAULT_KERNEL_ALIGNMENT,
        align => align,
    }
}

/// Copy an ELF vmlinux's segments to their physical addresses; its entry
/// and the end of its highest segment (bss included), which must be low RAM.
fn load_elf(
    mem: &GuestMemoryMmap,
    path: &Path,
    file: &mut File,
    low_end: u64,
) -> Result<(u64, u64), BootError> {
    // With no offset, linux-loader loads at p_paddr and returns e_entry;
    // the high-memory check refuses an entry among the boot structures.
    let loaded = Elf::load(mem, None, file, Some(GuestAddress(HIMEM_START)))
        .map_err(|e| kernel_error(path, e))?;
    if loaded.kernel_end > low_end {
        return Err(kernel_error(
            path,
            format!(
                "its segments end at 0x{:x}, past the end of low RAM at 0x{low_end:x}",
                loaded.kernel_end
            ),
        ));
    }
    Ok((loaded.kernel_load.0, loaded.kernel_end))
}

/// Copy the initrd at `path` to the highest page-aligned address at or
/// above `lowest` where it ends by `limit`; its address and size.
///
/// High, as boot loaders do: far from the kernel's decompression buffer
/// and the early allocations the kernel makes above its image.
fn load_initrd(
    mem: &GuestMemoryMmap,
    path: &Path,
    lowest: u64,
    limit: u64,
) -> Result<(u64, u64), BootError> {
    let mut file = File::open(path).map_err(|source| read_error(path, source))?;
    let size = file
        .metadata()
        .map_err(|source| read_error(path, source))?
        .len();
    if size == 0 {
        return Err(BootError::Empty {
            path: path.to_owned(),
        });
    }
    let addr = initrd_addr(size, lowest, limit).ok_or_else(|| BootError::InitrdTooBig {
        path: path.to_owned(),
        size,
        lowest,
        limit: limit.saturating_sub(1),
    })?;
    // It fits below `limit`, itself below 4 GiB, so `size` fits a usize.
    // The copy can only fail reading the file (it shrank, or an I/O error).
    mem.read_exact_volatile_from(GuestAddress(addr), &mut file, size as usize)
        .map_err(|e| read_error(path, std::io::Error::other(e)))?;
    Ok((addr, size))
}

/// The highest page-aligned address at or above `lowest` where `size`
/// bytes end by `limit`, if there is one.
fn initrd_addr(size: u64, lowest: u64, limit: u64) -> Option<u64> {
    let addr = limit.checked_sub(size)? & !(PAGE_SIZE - 1);
    (addr >= lowest).then_some(addr)
}

/// The zero page for a kernel whose setup header is `hdr` (the image's,
/// or [`elf_setup_header`]), the command line at [`CMDLINE_ADDR`], the
/// initrd at `(address, size)`, `ram` bytes of RAM and the ACPI RSDP at
/// `acpi_rsdp`.
///
/// `loadflags` stays as the image has it (`LOADED_HIGH` for a bzImage).
/// `CAN_USE_HEAP` with `heap_end_ptr` and `KEEP_SEGMENTS` are not set:
/// the first describes a heap for the 16-bit setup code and the second
/// tells the 32-bit entry not to reload segments; the 64-bit entry runs
/// neither, and no part of the kernel after it reads them.
fn zero_page(
    mut hdr: setup_header,
    initrd: Option<(u64, u64)>,
    ram: u64,
    acpi_rsdp: Option<u64>,
) -> boot_params {
    // What a bzImage carries already; an ELF vmlinux has no setup header,
    // so we write them for it.
    hdr.boot_flag = BOOT_FLAG;
    hdr.header = HDRS_MAGIC;
    hdr.kernel_alignment = kernel_alignment(&hdr);
    // Non-zero says "a boot loader filled this in"; the kernel ignores
    // ramdisk_image and ramdisk_size while it is 0.
    hdr.type_of_loader = LOADER_UNDEFINED;
    // No mode change: the text console, the kernel's own default.
    hdr.vid_mode = VID_MODE_NORMAL;
    // The 64-bit entry reads the command line from this pointer
    // (ext_cmd_line_ptr below holds bits 32..63).
    hdr.cmd_line_ptr = CMDLINE_ADDR as u32;
    let (ramdisk, ramdisk_size) = initrd.unwrap_or((0, 0));
    hdr.ramdisk_image = ramdisk as u32;
    hdr.ramdisk_size = ramdisk_size as u32;

    let mut params = boot_params {
        hdr,
        // Bits 32..63 of the initrd and command line (always 0 as long as
        // both stay in low RAM, but that is how the protocol says it).
        ext_ramdisk_image: (ramdisk >> 32) as u32,
        ext_ramdisk_size: (ramdisk_size >> 32) as u32,
        ext_cmd_line_ptr: (CMDLINE_ADDR >> 32) as u32,
        // The kernel takes the RSDP from here before it scans
        // 0xe0000..0xfffff for its signature (0 means "scan"); kernels
        // before 5.0, where this was padding, scan and find it too.
        acpi_rsdp_addr: acpi_rsdp.unwrap_or(0),
        ..Default::default()
    };
    let map = e820_map(ram);
    for (slot, &(addr, size, kind)) in params
        .e820_table
        .iter_mut()
        .zip(map.iter().take(E820_MAX_ENTRIES_ZEROPAGE))
    {
        *slot = boot_e820_entry {
            addr,
            size,
            r#type: kind,
        };
    }
    params.e820_entries = map.len().min(E820_MAX_ENTRIES_ZEROPAGE) as u8;
    params
}

fn read_error(path: &Path, source: std::io::Error) -> BootError {
    BootError::Read {
        path: path.to_owned(),
        source,
    }
}

fn kernel_error(path: &Path, why: impl std::fmt::Display) -> BootError {
    BootError::Kernel {
        path: path.to_owned(),
        why: why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use vmm_sys_util::tempfile::TempFile;

    const MIB: u64 = 1 << 20;
    /// The synthetic ELF's load address and entry, as a distribution vmlinux's.
    const ELF_ENTRY: u64 = 0x100_0000;
    /// `hlt; jmp .-1`
    const CODE: [u8; 3] = [0xf4, 0xeb, 0xfd];
    /// The synthetic ELF's segment size in memory (a bss follows the code).
    const ELF_MEMSZ: u64 = 0x3000;
    /// The synthetic bzImage's protected-mode part, after 2 sectors of setup.
    const PM_LEN: usize = 0x800;

    /// Guest memory laid out as a VM of `ram` bytes has it.
    fn memory(ram: u64) -> GuestMemoryMmap {
        let ranges: Vec<_> = layout::ram_regions(ram)
            .into_iter()
            .map(|(start, size)| (GuestAddress(start), size as usize))
            .collect();
        GuestMemoryMmap::<()>::from_ranges(&ranges).unwrap()
    }

    fn file(bytes: &[u8]) -> TempFile {
        let f = TempFile::new().unwrap();
        f.as_file().write_all(bytes).unwrap();
        f
    }

    fn put(image: &mut [u8], at: usize, bytes: &[u8]) {
        image[at..at + bytes.len()].copy_from_slice(bytes);
    }

    /// An ELF64 x86-64 executable: the header, one PT_LOAD program header
    /// (virtual address in the kernel's mapping, physical at 16 MiB, a
    /// bss after the code), then the code.
    fn elf_kernel() -> Vec<u8> {
        let mut elf = Vec::new();
        elf.extend_from_slice(b"\x7fELF");
        elf.extend_from_slice(&[2, 1, 1, 0]); // ELFCLASS64, little-endian, EV_CURRENT, System V
        elf.extend_from_slice(&[0; 8]);
        elf.extend_from_slice(&2u16.to_le_bytes()); // e_type: ET_EXEC
        elf.extend_from_slice(&62u16.to_le_bytes()); // e_machine: EM_X86_64
        elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
        elf.extend_from_slice(&ELF_ENTRY.to_le_bytes()); // e_entry
        elf.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        elf.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        elf.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
        elf.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
        elf.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
        assert_eq!(elf.len(), 64);
        elf.extend_from_slice(&1u32.to_le_bytes()); // p_type: PT_LOAD
        elf.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R X
        elf.extend_from_slice(&120u64.to_le_bytes()); // p_offset
        elf.extend_from_slice(&0xffff_ffff_8100_0000u64.to_le_bytes()); // p_vaddr
        elf.extend_from_slice(&ELF_ENTRY.to_le_bytes()); // p_paddr
        elf.extend_from_slice(&(CODE.len() as u64).to_le_bytes()); // p_filesz
        elf.extend_from_slice(&ELF_MEMSZ.to_le_bytes()); // p_memsz
        elf.extend_from_slice(&0x20_0000u64.to_le_bytes()); // p_align
        assert_eq!(elf.len(), 120);
        elf.extend_from_slice(&CODE);
        elf
    }

    /// A bzImage of boot protocol `version`: the boot sector holding the
    /// setup header at 0x1f1 (offsets as in boot.rst), one setup sector,
    /// then a protected-mode part of [`PM_LEN`] patterned bytes.
    fn bzimage(version: u16, xloadflags: u16) -> Vec<u8> {
        let mut image = vec![0u8; 2 * 512 + PM_LEN];
        put(&mut image, 0x1f1, &[1]); // setup_sects
        put(&mut image, 0x1fa, &0xffffu16.to_le_bytes()); // vid_mode
        put(&mut image, 0x1fe, &0xaa55u16.to_le_bytes()); // boot_flag
        put(&mut image, 0x200, &[0xeb, 0x6a]); // jump to 0x26c, the end of a 2.15 header
        put(&mut image, 0x202, b"HdrS"); // header
        put(&mut image, 0x206, &version.to_le_bytes()); // version
        put(&mut image, 0x211, &[0x01]); // loadflags: LOADED_HIGH
        put(&mut image, 0x214, &0x10_0000u32.to_le_bytes()); // code32_start
        put(&mut image, 0x22c, &0x7fff_ffffu32.to_le_bytes()); // initrd_addr_max
        put(&mut image, 0x230, &0x20_0000u32.to_le_bytes()); // kernel_alignment
        put(&mut image, 0x234, &[1]); // relocatable_kernel
        put(&mut image, 0x236, &xloadflags.to_le_bytes()); // xloadflags
        put(&mut image, 0x238, &0x7ffu32.to_le_bytes()); // cmdline_size
        put(&mut image, 0x258, &0x100_0000u64.to_le_bytes()); // pref_address
        put(&mut image, 0x260, &0x40_0000u32.to_le_bytes()); // init_size
        for (i, b) in image[1024..].iter_mut().enumerate() {
            *b = (i as u8) ^ 0x5a;
        }
        image
    }

    fn zero_page_of(mem: &GuestMemoryMmap) -> boot_params {
        mem.read_obj(GuestAddress(ZERO_PAGE_ADDR)).unwrap()
    }

    fn e820_of(params: &boot_params) -> Vec<(u64, u64, u32)> {
        (0..params.e820_entries as usize)
            .map(|i| {
                let e = params.e820_table[i];
                (e.addr, e.size, e.r#type)
            })
            .collect()
    }

    fn bytes_at(mem: &GuestMemoryMmap, addr: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        mem.read_slice(&mut buf, GuestAddress(addr)).unwrap();
        buf
    }

    #[test]
    fn elf_vmlinux_is_entered_at_e_entry_with_its_zero_page() {
        let ram = 64 * MIB;
        let mem = memory(ram);
        let kernel = file(&elf_kernel());
        let entry = load(
            &mem,
            ram,
            kernel.as_path(),
            None,
            "console=ttyS0 quiet",
            None,
        )
        .unwrap();
        assert_eq!(
            entry,
            Entry {
                rip: ELF_ENTRY,
                rsp: 0x8ff0,
                rdi: 0,
                rsi: 0x7000
            }
        );
        assert_eq!(bytes_at(&mem, ELF_ENTRY, 3), CODE);
        assert_eq!(bytes_at(&mem, 0x20000, 20), b"console=ttyS0 quiet\0");

        let p = zero_page_of(&mem);
        assert_eq!({ p.hdr.type_of_loader }, 0xff);
        assert_eq!({ p.hdr.boot_flag }, 0xaa55);
        assert_eq!({ p.hdr.header }, 0x5372_6448);
        assert_eq!({ p.hdr.cmd_line_ptr }, 0x20000);
        assert_eq!({ p.ext_cmd_line_ptr }, 0);
        assert_eq!(
            { p.hdr.cmdline_size },
            0x7ff,
            "x86's limit, an ELF states none"
        );
        assert_eq!(
            { p.hdr.kernel_alignment },
            0x100_0000,
            "the default, an ELF states none"
        );
        assert_eq!({ p.hdr.vid_mode }, 0xffff);
        assert_eq!({ p.hdr.loadflags }, 0);
        assert_eq!({ p.hdr.heap_end_ptr }, 0);
        assert_eq!(({ p.hdr.ramdisk_image }, { p.hdr.ramdisk_size }), (0, 0));
        assert_eq!({ p.acpi_rsdp_addr }, 0, "no ACPI tables: the kernel scans");
        assert_eq!(
            p.sentinel, 0,
            "non-zero makes the kernel wipe fields as from a broken loader"
        );
        assert_eq!(
            e820_of(&p),
            vec![
                (0, 0x9fc00, E820_RAM),
                (0x10_0000, ram - 0x10_0000, E820_RAM)
            ]
        );
    }

    #[test]
    fn bzimage_is_entered_at_startup_64_with_its_own_setup_header() {
        let ram = 64 * MIB;
        let mem = memory(ram);
        let image = bzimage(0x020f, 0x0001);
        let kernel = file(&image);
        let entry = load(
            &mem,
            ram,
            kernel.as_path(),
            None,
            "root=/dev/vda",
            Some(0xe_0000),
        )
        .unwrap();
        assert_eq!(
            entry,
            Entry {
                rip: 0x10_0200,
                rsp: 0x8ff0,
                rdi: 0,
                rsi: 0x7000
            }
        );
        assert_eq!(bytes_at(&mem, 0x10_0000, PM_LEN), &image[1024..]);
        assert_eq!(bytes_at(&mem, 0x20000, 14), b"root=/dev/vda\0");

        let p = zero_page_of(&mem);
        assert_eq!({ p.hdr.setup_sects }, 1);
        assert_eq!({ p.hdr.version }, 0x020f);
        assert_eq!({ p.hdr.header }, 0x5372_6448);
        assert_eq!({ p.hdr.boot_flag }, 0xaa55);
        assert_eq!({ p.hdr.type_of_loader }, 0xff);
        assert_eq!({ p.hdr.cmd_line_ptr }, 0x20000);
        assert_eq!({ p.hdr.cmdline_size }, 0x7ff, "the kernel's limit, kept");
        assert_eq!({ p.hdr.kernel_alignment }, 0x20_0000, "the kernel's, kept");
        assert_eq!({ p.hdr.pref_address }, 0x100_0000);
        assert_eq!({ p.hdr.init_size }, 0x40_0000);
        assert_eq!({ p.hdr.xloadflags }, 0x0001);
        assert_eq!(
            { p.hdr.loadflags },
            0x01,
            "LOADED_HIGH only: no heap, no KEEP_SEGMENTS"
        );
        assert_eq!({ p.hdr.heap_end_ptr }, 0);
        assert_eq!({ p.hdr.code32_start }, 0x10_0000);
        assert_eq!({ p.acpi_rsdp_addr }, 0xe_0000, "the RSDP the VMM wrote");
        assert_eq!(
            e820_of(&p),
            vec![
                (0, 0x9fc00, E820_RAM),
                (0x10_0000, ram - 0x10_0000, E820_RAM)
            ]
        );
    }

    #[test]
    fn setup_code_after_the_header_end_is_not_taken_for_fields() {
        // A 2.12 header ends at 0x268 (jump displacement 0x66); the bytes
        // after it, where 2.15 puts kernel_info_offset, are code.
        let mut image = bzimage(0x020c, 0x0001);
        put(&mut image, 0x201, &[0x66]);
        put(&mut image, 0x268, &[0xcc; 4]);
        let kernel = file(&image);
        let mem = memory(64 * MIB);
        load(&mem, 64 * MIB, kernel.as_path(), None, "", None).unwrap();
        let p = zero_page_of(&mem);
        assert_eq!({ p.hdr.kernel_info_offset }, 0);
        assert_eq!(
            { p.hdr.init_size },
            0x40_0000,
            "fields inside the header are kept"
        );
    }

    #[test]
    fn initrd_goes_high_page_aligned_below_initrd_addr_max() {
        let ram = 64 * MIB;
        let mem = memory(ram);
        let mut image = bzimage(0x020f, 0x0001);
        put(&mut image, 0x22c, &0x2ff_ffffu32.to_le_bytes()); // 48 MiB - 1
        let kernel = file(&image);
        let contents: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let initrd = file(&contents);
        load(
            &mem,
            ram,
            kernel.as_path(),
            Some(initrd.as_path()),
            "",
            None,
        )
        .unwrap();

        let at = (0x300_0000 - 5000) & !0xfff;
        let p = zero_page_of(&mem);
        assert_eq!(
            ({ p.hdr.ramdisk_image }, { p.hdr.ramdisk_size }),
            (at as u32, 5000)
        );
        assert_eq!(({ p.ext_ramdisk_image }, { p.ext_ramdisk_size }), (0, 0));
        assert_eq!(bytes_at(&mem, at, 5000), contents);
    }

    #[test]
    fn initrd_goes_at_the_top_of_ram_when_that_is_lower() {
        // An ELF states no limit, so the old 0x37ffffff holds; 64 MiB is below it.
        let ram = 64 * MIB;
        let mem = memory(ram);
        let kernel = file(&elf_kernel());
        let initrd = file(&[7u8; 0x2000]);
        load(
            &mem,
            ram,
            kernel.as_path(),
            Some(initrd.as_path()),
            "",
            None,
        )
        .unwrap();
        let p = zero_page_of(&mem);
        assert_eq!({ p.hdr.ramdisk_image } as u64, ram - 0x2000);
        assert_eq!(bytes_at(&mem, ram - 0x2000, 0x2000), vec![7u8; 0x2000]);
    }

    #[test]
    fn initrd_placement_stays_between_kernel_end_and_limit() {
        assert_eq!(initrd_addr(0x1000, 0x10_0000, 0x20_0000), Some(0x1f_f000));
        assert_eq!(initrd_addr(0x1001, 0x10_0000, 0x20_0000), Some(0x1f_e000));
        assert_eq!(
            initrd_addr(0x10_0000, 0x10_0000, 0x20_0000),
            Some(0x10_0000)
        );
        assert_eq!(initrd_addr(0x10_0001, 0x10_0000, 0x20_0000), None);
        assert_eq!(initrd_addr(0x30_0000, 0, 0x20_0000), None);
    }

    #[test]
    fn bzimage_reserves_its_decompression_buffer() {
        // Loaded at 1 MiB with 2 MiB alignment, it decompresses at
        // pref_address (16 MiB) into init_size (4 MiB) bytes.
        let image = bzimage(0x020f, 0x0001);
        let hdr = setup_header_of(Path::new("k"), &image).unwrap();
        assert_eq!(bzimage_end(&hdr, PM_LEN as u64), 0x140_0000);
        // Without pref_address, it is the load address rounded up to the alignment.
        let mut old = hdr;
        old.pref_address = 0;
        assert_eq!(bzimage_end(&old, PM_LEN as u64), 0x20_0000 + 0x40_0000);
    }

    #[test]
    fn e820_omits_the_legacy_hole_and_the_device_hole() {
        assert_eq!(
            e820_map(256 * MIB),
            vec![(0, 0x9fc00, E820_RAM), (0x10_0000, 255 * MIB, E820_RAM)]
        );
        assert_eq!(
            e820_map(MMIO_HOLE_START),
            vec![
                (0, 0x9fc00, E820_RAM),
                (0x10_0000, MMIO_HOLE_START - MIB, E820_RAM)
            ]
        );
        assert_eq!(
            e820_map(6 << 30),
            vec![
                (0, 0x9fc00, E820_RAM),
                (0x10_0000, MMIO_HOLE_START - MIB, E820_RAM),
                (0x1_0000_0000, (6 << 30) - MMIO_HOLE_START, E820_RAM),
            ]
        );
    }

    #[test]
    fn zero_page_carries_ram_above_4_gib() {
        let p = zero_page(setup_header::default(), None, 5 << 30, None);
        assert_eq!(e820_of(&p), e820_map(5 << 30));
        assert_eq!(p.e820_entries, 3);
    }

    #[test]
    fn unreadable_and_unknown_kernels_name_the_file() {
        let mem = memory(32 * MIB);
        let err = load(
            &mem,
            32 * MIB,
            Path::new("/nonexistent/vmlinuz"),
            None,
            "",
            None,
        )
        .unwrap_err();
        assert!(matches!(err, BootError::Read { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/vmlinuz: "),
            "{err}"
        );

        let garbage = file(&b"this is not a kernel\n".repeat(100));
        let err = load(&mem, 32 * MIB, garbage.as_path(), None, "", None).unwrap_err();
        let want = format!(
            "{}: not a kernel Lumen can boot: neither",
            garbage.as_path().display()
        );
        assert!(err.to_string().starts_with(&want), "{err}");

        let empty = file(&[]);
        let err = load(&mem, 32 * MIB, empty.as_path(), None, "", None).unwrap_err();
        assert!(matches!(err, BootError::Empty { .. }), "{err:?}");

        let mut elf32 = elf_kernel();
        elf32[4] = 1;
        let elf32 = file(&elf32);
        let err = load(&mem, 32 * MIB, elf32.as_path(), None, "", None).unwrap_err();
        assert!(err.to_string().contains("a 32-bit ELF"), "{err}");
    }

    #[test]
    fn kernels_without_a_64_bit_entry_are_refused() {
        let mem = memory(32 * MIB);
        let old = file(&bzimage(0x020b, 0));
        let err = load(&mem, 32 * MIB, old.as_path(), None, "", None).unwrap_err();
        assert!(matches!(err, BootError::Kernel { .. }), "{err:?}");
        assert!(
            err.to_string().contains("boot protocol 2.11 predates 2.12"),
            "{err}"
        );

        let no_64 = file(&bzimage(0x020f, 0));
        let err = load(&mem, 32 * MIB, no_64.as_path(), None, "", None).unwrap_err();
        assert!(err.to_string().contains("XLF_KERNEL_64 is clear"), "{err}");
    }

    #[test]
    fn command_lines_longer_than_the_kernel_takes_are_refused() {
        let mem = memory(32 * MIB);
        let bz = file(&bzimage(0x020f, 0x0001));
        let err = load(&mem, 32 * MIB, bz.as_path(), None, &"x".repeat(0x800), None).unwrap_err();
        assert!(
            matches!(
                err,
                BootError::CmdlineTooLong {
                    len: 0x800,
                    max: 0x7ff
                }
            ),
            "{err:?}"
        );
        let elf = file(&elf_kernel());
        let err = load(
            &mem,
            32 * MIB,
            elf.as_path(),
            None,
            &"x".repeat(0x800),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                BootError::CmdlineTooLong {
                    len: 0x800,
                    max: 0x7ff
                }
            ),
            "{err:?}"
        );
        load(
            &mem,
            32 * MIB,
            elf.as_path(),
            None,
            &"x".repeat(0x7ff),
            None,
        )
        .unwrap();
    }

    #[test]
    fn kernels_and_initrds_too_big_for_ram_are_refused() {
        // 20 MiB of RAM: the bzImage would decompress up to 20 MiB + 0
        // (fits exactly at 0x140_0000) but not with init_size one page larger.
        let mut image = bzimage(0x020f, 0x0001);
        put(&mut image, 0x260, &0x40_1000u32.to_le_bytes());
        let bz = file(&image);
        let mem = memory(20 * MIB);
        let err = load(&mem, 20 * MIB, bz.as_path(), None, "", None).unwrap_err();
        assert!(
            err.to_string().contains("needs RAM up to 0x1401000"),
            "{err}"
        );

        // The ELF ends at 16 MiB + 12 KiB; 4 MiB of initrd cannot fit below 20 MiB.
        let elf = file(&elf_kernel());
        let initrd = TempFile::new().unwrap();
        initrd.as_file().set_len(4 * MIB).unwrap();
        let err = load(
            &mem,
            20 * MIB,
            elf.as_path(),
            Some(initrd.as_path()),
            "",
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, BootError::InitrdTooBig { size, lowest: 0x100_3000, limit: 0x13f_ffff, .. } if size == 4 * MIB),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&initrd.as_path().display().to_string()),
            "{err}"
        );

        let err = load(
            &mem,
            20 * MIB,
            elf.as_path(),
            Some(Path::new("/nonexistent/initrd")),
            "",
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/initrd: "),
            "{err}"
        );

        // An ELF whose bss runs past the end of RAM.
        let small = memory(16 * MIB + 0x1000);
        let err = load(&small, 16 * MIB + 0x1000, elf.as_path(), None, "", None).unwrap_err();
        assert!(
            err.to_string().contains("its segments end at 0x1003000"),
            "{err}"
        );
    }
}
