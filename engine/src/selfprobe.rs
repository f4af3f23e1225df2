//! `dtrace:::BEGIN`, `END` and `ERROR`: uprobes on functions of our own binary that the consumer calls.
//!
//! DTrace fires BEGIN before any other probe, END after the last, and ERROR
//! when an action faults. Lumen gives each a function here; the consumer
//! calls [`lumen_dtrace_begin`] once every program is attached,
//! [`lumen_dtrace_end`] when tracing stops, and [`lumen_dtrace_error`] for
//! each fault record it reads. The programs for those clauses are
//! [`crate::load::ProgKind::Kprobe`] programs attached as uprobes on the
//! function's file offset in `/proc/self/exe`, limited to our own pid so
//! that two `lumen dtrace` sessions never fire each other's BEGIN.
//!
//! The arguments arrive in the program's `struct pt_regs` (x86-64:
//! `rdi` +112, `rsi` +104, `rdx` +96, `rcx` +88, `r8` +72, `r9` +64;
//! aarch64: `x0..x5` at `8*i`): a session cookie first, then for ERROR
//! DTrace's `arg1..arg5` (EPID, action index, DIF offset, fault, address).
//!
//! The functions must stay real, distinct calls: `#[no_mangle]` keeps their
//! names, `#[inline(never)]` their bodies, `black_box` of a different tag in
//! each stops the optimiser from dropping the calls or merging the three
//! into one address.

use crate::attach::{attach_uprobe, AttachError, Link};
use object::read::ReadCache;
use object::{Object, ObjectSegment, ObjectSymbol};
use std::fs;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

/// The path uprobes on our own functions attach to. The kernel resolves
/// the magic link to our executable's inode, even if the file was
/// replaced or deleted since we started.
pub const SELF_EXE: &str = "/proc/self/exe";

/// Fires `dtrace:::BEGIN`. Called by the consumer once all probes are enabled.
#[no_mangle]
#[inline(never)]
pub extern "C" fn lumen_dtrace_begin(cookie: u64) {
    std::hint::black_box((0x42_4547_494eu64, cookie));
}

/// Fires `dtrace:::END`. Called by the consumer when tracing stops.
#[no_mangle]
#[inline(never)]
pub extern "C" fn lumen_dtrace_end(cookie: u64) {
    std::hint::black_box((0x45_4e44u64, cookie));
}

/// Fires `dtrace:::ERROR` with DTrace's arguments: the enabled probe id,
/// the action index, the DIF offset (-1 when unknown), the fault kind and
/// the faulting address.
#[no_mangle]
#[inline(never)]
pub extern "C" fn lumen_dtrace_error(
    cookie: u64,
    epid: u64,
    action: u64,
    dif_offset: u64,
    fault: u64,
    addr: u64,
) {
    std::hint::black_box((
        0x45_5252_4f52u64,
        cookie,
        epid,
        action,
        dif_offset,
        fault,
        addr,
    ));
}

/// Why a function of ours could not be found in our executable.
#[derive(Debug, thiserror::Error)]
pub enum SelfProbeError {
    /// `/proc/self/exe` or `/proc/self/maps` could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Our executable is not an ELF file `object` can read.
    #[error("cannot parse {SELF_EXE} as ELF: {0}")]
    Elf(#[source] object::Error),
    /// No symbol of that name (the binary was stripped, or the name is wrong).
    #[error("no symbol {0} in {SELF_EXE}")]
    NoSymbol(String),
    /// The address is in no file-backed segment.
    #[error("address {addr:#x} of {what} is not in a loaded segment of {SELF_EXE}")]
    NotMapped {
        /// The symbol or function.
        what: String,
        /// Its address.
        addr: u64,
    },
}

/// The file offset of `symbol` in our executable, from its ELF symbol
/// table (`.symtab`, then `.dynsym`): the symbol's virtual address less
/// its `PT_LOAD` segment's address plus the segment's file offset.
pub fn self_offset(symbol: &str) -> Result<u64, SelfProbeError> {
    let file = fs::File::open(SELF_EXE).map_err(|source| SelfProbeError::Read {
        path: SELF_EXE,
        source,
    })?;
    let cache = ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(SelfProbeError::Elf)?;
    let addr = elf
        .symbols()
        .chain(elf.dynamic_symbols())
        .find(|s| s.name_bytes().is_ok_and(|n| n == symbol.as_bytes()))
        .map(|s| s.address())
        .ok_or_else(|| SelfProbeError::NoSymbol(symbol.to_string()))?;
    elf.segments()
        .find_map(|seg| {
            let (offset, size) = seg.file_range();
            (seg.address() <= addr && addr < seg.address() + size)
                .then(|| addr - seg.address() + offset)
        })
        .ok_or_else(|| SelfProbeError::NotMapped {
            what: symbol.to_string(),
            addr,
        })
}

/// The three probes of the `dtrace` provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelfProbe {
    /// `dtrace:::BEGIN` → [`lumen_dtrace_begin`].
    Begin,
    /// `dtrace:::END` → [`lumen_dtrace_end`].
    End,
    /// `dtrace:::ERROR` → [`lumen_dtrace_error`].
    Error,
}

impl SelfProbe {
    /// The function's symbol name.
    pub fn symbol(self) -> &'static str {
        match self {
            SelfProbe::Begin => "lumen_dtrace_begin",
            SelfProbe::End => "lumen_dtrace_end",
            SelfProbe::Error => "lumen_dtrace_error",
        }
    }

    /// The function's address in this process.
    fn address(self) -> u64 {
        match self {
            SelfProbe::Begin => lumen_dtrace_begin as *const () as u64,
            SelfProbe::End => lumen_dtrace_end as *const () as u64,
            SelfProbe::Error => lumen_dtrace_error as *const () as u64,
        }
    }

    /// The function's file offset in our executable, found from its address
    /// and `/proc/self/maps`: no ELF parsing, so it works on a stripped
    /// binary and costs one small read. [`self_offset`] must agree.
    pub fn offset(self) -> Result<u64, SelfProbeError> {
        let path = "/proc/self/maps";
        let maps =
            fs::read_to_string(path).map_err(|source| SelfProbeError::Read { path, source })?;
        let addr = self.address();
        offset_in_maps(&maps, addr).ok_or_else(|| SelfProbeError::NotMapped {
            what: self.symbol().to_string(),
            addr,
        })
    }

    /// Attach `prog` (a [`crate::load::ProgKind::Kprobe`] program) to this
    /// probe, for calls made by this process only.
    pub fn attach(self, prog: BorrowedFd<'_>) -> Result<Link, SelfAttachError> {
        let offset = self.offset()?;
        let pid = std::process::id() as i32;
        Ok(attach_uprobe(
            prog,
            Path::new(SELF_EXE),
            offset,
            false,
            Some(pid),
        )?)
    }
}

/// Why a BEGIN/END/ERROR program could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum SelfAttachError {
    /// The function's offset could not be found.
    #[error(transparent)]
    Offset(#[from] SelfProbeError),
    /// The uprobe could not be attached.
    #[error(transparent)]
    Attach(#[from] AttachError),
}

/// The file offset of `addr` from `/proc/<pid>/maps` text: the line whose
/// range holds it, `addr - start + offset`. Only file-backed lines count.
fn offset_in_maps(maps: &str, addr: u64) -> Option<u64> {
    maps.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let (start, end) = (
            u64::from_str_radix(start, 16).ok()?,
            u64::from_str_radix(end, 16).ok()?,
        );
        let _perms = fields.next()?;
        let offset = u64::from_str_radix(fields.next()?, 16).ok()?;
        let _dev = fields.next()?;
        let inode: u64 = fields.next()?.parse().ok()?;
        (inode != 0 && start <= addr && addr < end).then(|| addr - start + offset)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_translate_addresses_to_file_offsets() {
        let maps = "\
55d0c0000000-55d0c0100000 r--p 00000000 fd:01 1234 /usr/bin/lumen
55d0c0100000-55d0c0300000 r-xp 00100000 fd:01 1234 /usr/bin/lumen
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
";
        assert_eq!(offset_in_maps(maps, 0x55d0_c010_1234), Some(0x10_1234));
        assert_eq!(offset_in_maps(maps, 0x55d0_c000_0010), Some(0x10));
        assert_eq!(offset_in_maps(maps, 0x7ffd_0000_0010), None);
        assert_eq!(offset_in_maps(maps, 0x10), None);
    }

    #[test]
    fn elf_and_maps_agree_and_the_three_functions_are_distinct() {
        let mut offsets = Vec::new();
        for probe in [SelfProbe::Begin, SelfProbe::End, SelfProbe::Error] {
            let from_elf = self_offset(probe.symbol()).unwrap();
            let from_maps = probe.offset().unwrap();
            assert_eq!(from_elf, from_maps, "{probe:?}");
            offsets.push(from_elf);
        }
        offsets.sort();
        offsets.dedup();
        assert_eq!(offsets.len(), 3, "functions merged: {offsets:?}");
    }

    #[test]
    fn unknown_symbol_is_named() {
        let err = self_offset("no_such_symbol_in_lumen").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no symbol no_such_symbol_in_lumen in /proc/self/exe"
        );
    }
}
