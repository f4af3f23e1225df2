//! USDT probes: the SystemTap SDT notes (`.note.stapsdt`) of the ELF
//! objects a process maps, read into probe sites the `usdt` provider
//! attaches uprobes to.
//!
//! A note gives the probe's address, the `.stapsdt.base` address it was
//! linked against (prelinking moves it), the is-enabled semaphore's address
//! and an argument string such as `-4@%eax 8@-16(%rbp) -4@$-7`. Addresses
//! become file offsets here, because uprobes (and their reference counter,
//! the semaphore) are placed by file offset.

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};

/// Why an object's notes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UsdtError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not an ELF object we understand.
    #[error("{path} is not an ELF object: {why}")]
    Elf {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// Where an argument's value is at the probe site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgLoc {
    /// In a register: its byte offset in x86-64 `struct pt_regs`.
    Reg(u16),
    /// In memory at a register plus a displacement.
    Mem {
        /// The register's offset in `pt_regs`.
        reg: u16,
        /// The displacement.
        disp: i32,
    },
    /// A constant.
    Imm(i64),
}

/// One argument: its size in bytes, its signedness and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdtArg {
    /// 1, 2, 4 or 8.
    pub size: u8,
    /// Signed (a negative size in the note).
    pub signed: bool,
    /// Where.
    pub loc: ArgLoc,
}

impl SdtArg {
    /// The D type of the argument (`int`, `uint64_t`…).
    pub fn d_type(&self) -> &'static str {
        match (self.size, self.signed) {
            (1, true) => "int8_t",
            (1, false) => "uint8_t",
            (2, true) => "int16_t",
            (2, false) => "uint16_t",
            (4, true) => "int32_t",
            (4, false) => "uint32_t",
            (_, true) => "int64_t",
            (_, false) => "uint64_t",
        }
    }
}

/// One probe site of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdtProbe {
    /// The object file.
    pub path: PathBuf,
    /// Provider, as in the note.
    pub provider: String,
    /// Name, as in the note (`__` is `-` in D).
    pub name: String,
    /// The function the site is in, if the symbol table says (empty from
    /// [`probes`]: see [`function_at`]).
    pub function: String,
    /// The site's virtual address in the object.
    pub pc: u64,
    /// File offset of the site.
    pub offset: u64,
    /// File offset of the semaphore; 0 if the probe has none.
    pub semaphore: u64,
    /// Its arguments.
    pub args: Vec<SdtArg>,
}

impl SdtProbe {
    /// The probe's name in D: DTrace turns `__` into `-`.
    pub fn d_name(&self) -> String {
        self.name.replace("__", "-")
    }

    /// The object's basename, DTrace's module name.
    pub fn module(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// x86-64 `struct pt_regs` offsets of a register, by any of its names.
fn reg_offset(name: &str) -> Option<u16> {
    Some(match name {
        "r15" | "r15d" | "r15w" | "r15b" => 0,
        "r14" | "r14d" | "r14w" | "r14b" => 8,
        "r13" | "r13d" | "r13w" | "r13b" => 16,
        "r12" | "r12d" | "r12w" | "r12b" => 24,
        "rbp" | "ebp" | "bp" | "bpl" => 32,
        "rbx" | "ebx" | "bx" | "bl" | "bh" => 40,
        "r11" | "r11d" | "r11w" | "r11b" => 48,
        "r10" | "r10d" | "r10w" | "r10b" => 56,
        "r9" | "r9d" | "r9w" | "r9b" => 64,
        "r8" | "r8d" | "r8w" | "r8b" => 72,
        "rax" | "eax" | "ax" | "al" | "ah" => 80,
        "rcx" | "ecx" | "cx" | "cl" | "ch" => 88,
        "rdx" | "edx" | "dx" | "dl" | "dh" => 96,
        "rsi" | "esi" | "si" | "sil" => 104,
        "rdi" | "edi" | "di" | "dil" => 112,
        "rip" | "eip" => 128,
        "rsp" | "esp" | "sp" | "spl" => 152,
        _ => return None,
    })
}

/// Parse one argument spec: `SIZE@LOC` with LOC `%reg`, `$imm`,
/// `disp(%reg)` or `(%reg)`.
pub fn parse_arg(spec: &str) -> Option<SdtArg> {
    let (size, loc) = spec.split_once('@')?;
    let n: i32 = size.parse().ok()?;
    let signed = n < 0;
    let size = n.unsigned_abs();
    if !matches!(size, 1 | 2 | 4 | 8) {
        return None;
    }
    let loc = if let Some(r) = loc.strip_prefix('%') {
        ArgLoc::Reg(reg_offset(r)?)
    } else if let Some(v) = loc.strip_prefix('$') {
        ArgLoc::Imm(v.parse().ok()?)
    } else {
        let (disp, rest) = loc.split_once('(')?;
        let reg = rest.strip_suffix(')')?.strip_prefix('%')?;
        let disp = if disp.is_empty() {
            0
        } else {
            disp.parse().ok()?
        };
        ArgLoc::Mem {
            reg: reg_offset(reg)?,
            disp,
        }
    };
    Some(SdtArg {
        size: size as u8,
        signed,
        loc,
    })
}

/// A virtual address of an ELF object as an offset into its file, through
/// its loadable segments (what uprobes are placed by).
pub(crate) fn file_offset<'data, R: object::ReadRef<'data>>(
    file: &object::File<'data, R>,
    va: u64,
) -> Option<u64> {
    file.segments().find_map(|seg| {
        let (off, size) = seg.file_range();
        (seg.address() <= va && va < seg.address() + size).then(|| va - seg.address() + off)
    })
}

fn u64_le(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(s);
    Some(u64::from_le_bytes(w))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn cstr(b: &[u8], at: &mut usize) -> Option<String> {
    let rest = b.get(*at..)?;
    let end = rest.iter().position(|&c| c == 0)?;
    let s = String::from_utf8_lossy(&rest[..end]).into_owned();
    *at += end + 1;
    Some(s)
}

/// The SDT probes noted in the ELF object at `path`, their `function`
/// left empty: reading them takes a few `pread`s of the ELF headers and
/// the note section ([`ElfNotes`]), never the whole file (the tracer's own
/// binary is tens of megabytes, and its notes, libc's and the other
/// objects' are read at every start). Name the functions with
/// [`functions`] and [`function_at`] where needed.
pub fn probes(path: &Path) -> Result<Vec<SdtProbe>, UsdtError> {
    let elf = ElfNotes::read(path)?;
    let Some(notes) = elf.notes.as_deref() else {
        return Ok(Vec::new());
    };
    let base_actual = elf.stapsdt_base;
    let file_offset = |va: u64| elf.file_offset(va);
    let mut out = Vec::new();
    for note in raw_notes(notes) {
        // Prelinking moves the object; the base section shows by how much.
        let pc = match base_actual {
            Some(actual) if note.base != 0 => note.pc.wrapping_add(actual).wrapping_sub(note.base),
            _ => note.pc,
        };
        let Some(offset) = file_offset(pc) else {
            continue;
        };
        let semaphore = if note.semaphore == 0 {
            0
        } else {
            file_offset(note.semaphore).unwrap_or(0)
        };
        out.push(SdtProbe {
            path: path.into(),
            provider: note.provider,
            name: note.name,
            function: String::new(),
            pc,
            offset,
            semaphore,
            args: note.args,
        });
    }
    Ok(out)
}

/// One `stapsdt` note as written, its addresses not yet placed in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawNote {
    /// The site's address as linked (0-based in a relocatable object).
    pub pc: u64,
    /// `.stapsdt.base`'s address as linked.
    pub base: u64,
    /// The semaphore's address; 0 if none.
    pub semaphore: u64,
    /// Provider.
    pub provider: String,
    /// Name (`__` is `-` in D).
    pub name: String,
    /// Its arguments.
    pub args: Vec<SdtArg>,
}

/// The SDT notes of any ELF object, a relocatable one (`.o`) included:
/// which probes it fires and with which arguments, for `dtrace -G`.
pub fn notes(path: &Path) -> Result<Vec<RawNote>, UsdtError> {
    let elf = ElfNotes::read(path)?;
    Ok(elf.notes.as_deref().map(raw_notes).unwrap_or_default())
}

/// Walk the `.note.stapsdt` section's notes.
fn raw_notes(notes: &[u8]) -> Vec<RawNote> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let (Some(namesz), Some(descsz), Some(kind)) = (
            u32_le(notes, at),
            u32_le(notes, at + 4),
            u32_le(notes, at + 8),
        ) else {
            break;
        };
        let name_at = at + 12;
        let desc_at = name_at + (namesz as usize).next_multiple_of(4);
        let next = desc_at + (descsz as usize).next_multiple_of(4);
        let owner = notes.get(name_at..name_at + namesz as usize).unwrap_or(&[]);
        let desc = notes.get(desc_at..desc_at + descsz as usize).unwrap_or(&[]);
        at = next;
        if kind != 3 || owner != b"stapsdt\0" {
            continue;
        }
        let (Some(pc), Some(base), Some(semaphore)) =
            (u64_le(desc, 0), u64_le(desc, 8), u64_le(desc, 16))
        else {
            continue;
        };
        let mut p = 24;
        let (Some(provider), Some(name), Some(args)) =
            (cstr(desc, &mut p), cstr(desc, &mut p), cstr(desc, &mut p))
        else {
            continue;
        };
        out.push(RawNote {
            pc,
            base,
            semaphore,
            provider,
            name,
            args: args.split_whitespace().filter_map(parse_arg).collect(),
        });
    }
    out
}

/// What [`probes`] needs of an ELF object, read with a handful of
/// `pread`s: the loadable segments (to turn addresses into file
/// offsets), the `.note.stapsdt` section and `.stapsdt.base`'s address.
struct ElfNotes {
    /// Loadable segments: (virtual address, file offset, file size).
    segments: Vec<(u64, u64, u64)>,
    notes: Option<Vec<u8>>,
    stapsdt_base: Option<u64>,
}

impl ElfNotes {
    fn read(path: &Path) -> Result<ElfNotes, UsdtError> {
        use object::elf::{FileHeader64, ProgramHeader64, SectionHeader64, PT_LOAD};
        use object::LittleEndian as LE;
        use std::os::unix::fs::FileExt;
        let f = std::fs::File::open(path).map_err(|source| UsdtError::Read {
            path: path.into(),
            source,
        })?;
        let elf_err = |why: &str| UsdtError::Elf {
            path: path.into(),
            why: why.to_string(),
        };
        let read = |offset: u64, len: usize| -> Result<Vec<u8>, UsdtError> {
            // A corrupt header cannot make us allocate gigabytes.
            if len > 64 << 20 {
                return Err(elf_err("a header or section is implausibly large"));
            }
            let mut buf = vec![0u8; len];
            f.read_exact_at(&mut buf, offset)
                .map_err(|source| UsdtError::Read {
                    path: path.into(),
                    source,
                })?;
            Ok(buf)
        };
        let head = read(0, std::mem::size_of::<FileHeader64<LE>>())?;
        let (header, _) = object::pod::from_bytes::<FileHeader64<LE>>(&head)
            .map_err(|_| elf_err("too short for an ELF header"))?;
        if header.e_ident.magic != object::elf::ELFMAG
            || header.e_ident.class != object::elf::ELFCLASS64
            || header.e_ident.data != object::elf::ELFDATA2LSB
        {
            return Err(elf_err("not a 64-bit little-endian ELF object"));
        }
        let phs = read(
            header.e_phoff.get(LE),
            usize::from(header.e_phnum.get(LE)) * std::mem::size_of::<ProgramHeader64<LE>>(),
        )?;
        let (phs, _) = object::pod::slice_from_bytes::<ProgramHeader64<LE>>(
            &phs,
            usize::from(header.e_phnum.get(LE)),
        )
        .map_err(|_| elf_err("bad program headers"))?;
        let segments = phs
            .iter()
            .filter(|p| p.p_type.get(LE) == PT_LOAD)
            .map(|p| (p.p_vaddr.get(LE), p.p_offset.get(LE), p.p_filesz.get(LE)))
            .collect();
        let shnum = usize::from(header.e_shnum.get(LE));
        let shs = read(
            header.e_shoff.get(LE),
            shnum * std::mem::size_of::<SectionHeader64<LE>>(),
        )?;
        let (shs, _) = object::pod::slice_from_bytes::<SectionHeader64<LE>>(&shs, shnum)
            .map_err(|_| elf_err("bad section headers"))?;
        let mut found = ElfNotes {
            segments,
            notes: None,
            stapsdt_base: None,
        };
        let Some(strtab) = shs.get(usize::from(header.e_shstrndx.get(LE))) else {
            return Ok(found);
        };
        let names = read(strtab.sh_offset.get(LE), strtab.sh_size.get(LE) as usize)?;
        for sh in shs {
            let start = sh.sh_name.get(LE) as usize;
            let name = names.get(start..).unwrap_or(&[]);
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
            match name {
                b".note.stapsdt" => {
                    found.notes = Some(read(sh.sh_offset.get(LE), sh.sh_size.get(LE) as usize)?)
                }
                b".stapsdt.base" => found.stapsdt_base = Some(sh.sh_addr.get(LE)),
                _ => {}
            }
        }
        Ok(found)
    }

    /// The file offset of virtual address `va`, through the loadable
    /// segments (what uprobes are placed by).
    fn file_offset(&self, va: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|(addr, _, size)| *addr <= va && va < addr + size)
            .map(|(addr, off, _)| va - addr + off)
    }
}

/// The functions of the ELF object at `path` (address, size, name),
/// sorted by address, for [`function_at`]: read once for an object, and
/// only when one of its probes is wanted.
pub fn functions(path: &Path) -> Vec<(u64, u64, String)> {
    let Ok(f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let cache = object::read::ReadCache::new(f);
    let Ok(file) = object::File::parse(&cache) else {
        return Vec::new();
    };
    let mut functions: Vec<(u64, u64, String)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
        .collect();
    functions.sort_by_key(|f| f.0);
    functions
}

/// The name of the function holding address `pc`, from [`functions`]
/// (empty if none does).
pub fn function_at(functions: &[(u64, u64, String)], pc: u64) -> String {
    // The last function starting at or before pc; symbols may overlap
    // (aliases), and any that holds pc names it.
    let end = functions.partition_point(|f| f.0 <= pc);
    functions[..end]
        .iter()
        .rev()
        .find(|(a, size, _)| pc < a + size)
        .map(|(_, _, n)| n.clone())
        .unwrap_or_default()
}

/// The ELF objects process `pid` maps executable, in map order. A process
/// in another mount namespace (a zone's) names them by its own root, so
/// they are reached through `/proc/PID/root`: the same files, so the same
/// inodes for uprobes.
pub fn mapped_objects(pid: u32) -> Vec<PathBuf> {
    let Ok(maps) = crate::sys::read_pseudo_file(format!("/proc/{pid}/maps")) else {
        return Vec::new();
    };
    let ns = |p: String| std::fs::read_link(p).ok();
    let root = match (
        ns("/proc/self/ns/mnt".into()),
        ns(format!("/proc/{pid}/ns/mnt")),
    ) {
        (Some(ours), Some(theirs)) if ours != theirs => {
            Some(PathBuf::from(format!("/proc/{pid}/root")))
        }
        _ => None,
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for line in maps.lines() {
        let mut it = line.split_whitespace();
        let (Some(_range), Some(perms)) = (it.next(), it.next()) else {
            continue;
        };
        let path = it.nth(3).unwrap_or("");
        if perms.contains('x') && path.starts_with('/') {
            let p = match &root {
                Some(r) => r.join(path.trim_start_matches('/')),
                None => PathBuf::from(path),
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_specs() {
        assert_eq!(
            parse_arg("-4@%eax"),
            Some(SdtArg {
                size: 4,
                signed: true,
                loc: ArgLoc::Reg(80)
            })
        );
        assert_eq!(
            parse_arg("8@-16(%rbp)"),
            Some(SdtArg {
                size: 8,
                signed: false,
                loc: ArgLoc::Mem { reg: 32, disp: -16 }
            })
        );
        assert_eq!(
            parse_arg("-4@$-7"),
            Some(SdtArg {
                size: 4,
                signed: true,
                loc: ArgLoc::Imm(-7)
            })
        );
        assert_eq!(
            parse_arg("2@(%rdi)").map(|a| a.loc),
            Some(ArgLoc::Mem { reg: 112, disp: 0 })
        );
        assert_eq!(parse_arg("3@%eax"), None);
        assert_eq!(parse_arg("8@%xmm0"), None);
    }
}
