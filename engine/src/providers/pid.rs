//! The `pid` provider: function boundary probes in a user process,
//! `pidPID:MODULE:FUNCTION:entry`, `:return` and `:OFFSET` (an
//! instruction offset in hex), for every function in the symbol tables of
//! the objects the process maps — or, for a `-c` command that has not run
//! yet, its program and the libraries it names (`DT_NEEDED`).
//!
//! Entry probes see the first six integer arguments (x86-64: `rdi rsi rdx
//! rcx r8 r9`) as `arg0`–`arg5`; return probes see the return value
//! (`rax`) as `arg1`, and `arg0`, DTrace's offset of the returning
//! instruction, is 0: a uretprobe fires at the return address and cannot
//! tell which return instruction got there.

use super::fields::typed_target;
use super::{one, ArgSource as Types, Attachment, ProbeSource, ProbeSpec, Provider};
use crate::sdt_notes::file_offset;
use d_lang::catalog::glob_match;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeDesc;
use d_lang::ProbeInfo;
use object::{Object, ObjectSymbol, SymbolKind};
use std::path::{Path, PathBuf};

/// The provider's name before the pid.
pub const PREFIX: &str = "pid";

/// Where a pid probe goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The process.
    pub pid: u32,
    /// The object.
    pub path: PathBuf,
    /// File offset of the instrumented instruction (the function's first
    /// for entry and return).
    pub offset: u64,
    /// A return probe (uretprobe).
    pub ret: bool,
}

/// A function of an object: name, file offset, size.
fn functions(path: &Path) -> Vec<(String, u64, u64)> {
    let Ok(data) = std::fs::read(path) else {
        return Vec::new();
    };
    let Ok(file) = object::File::parse(&*data) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u64, u64)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0 && s.is_definition())
        .filter_map(|s| {
            let name = s.name().ok()?;
            // Versioned aliases (name@@GLIBC_2.2.5) name the same code.
            let name = name.split('@').next()?.to_string();
            Some((name, file_offset(&file, s.address())?, s.size()))
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// A `-c` program and the libraries it needs (`DT_NEEDED`), found where
/// the dynamic linker looks by default.
pub fn program_and_libraries(program: &Path) -> Vec<PathBuf> {
    let mut out = vec![program.to_path_buf()];
    let Ok(data) = std::fs::read(program) else {
        return out;
    };
    let Ok(elf) = object::read::elf::ElfFile64::<object::Endianness>::parse(&*data) else {
        return out;
    };
    let Ok(Some(needed)) = needed_libraries(&elf) else {
        return out;
    };
    for name in needed {
        for dir in [
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
        ] {
            let p = Path::new(dir).join(&name);
            if p.exists() {
                out.push(p);
                break;
            }
        }
    }
    out
}

fn needed_libraries(
    elf: &object::read::elf::ElfFile64<'_, object::Endianness>,
) -> object::Result<Option<Vec<String>>> {
    use object::read::elf::{Dyn, FileHeader};
    let endian = elf.endian();
    let data = elf.data();
    let sections = elf.elf_header().sections(endian, data)?;
    let Some((dynamic, link)) = sections.dynamic(endian, data)? else {
        return Ok(None);
    };
    let strings = sections.strings(endian, data, link)?;
    let mut out = Vec::new();
    for d in dynamic {
        if d.tag32(endian) == Some(object::elf::DT_NEEDED as i32) {
            if let Ok(name) = d.string(endian, strings) {
                out.push(String::from_utf8_lossy(name).into_owned());
            }
        }
    }
    Ok(Some(out))
}

/// The pid probes of process `pid` (reading `objects`) that `desc`
/// matches: provider name, probe and site.
pub fn matching(desc: &ProbeDesc, pid: u32, objects: &[PathBuf]) -> Vec<(String, ProbeSpec, Site)> {
    let provider = format!("{PREFIX}{pid}");
    if !glob_match(&desc.provider, &provider) {
        return Vec::new();
    }
    // entry, return, or an instruction offset named exactly.
    let offset_name = u64::from_str_radix(&desc.name, 16).ok();
    let mut out = Vec::new();
    for path in objects {
        let module = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !glob_match(&desc.module, &module) {
            continue;
        }
        for (func, start, size) in functions(path) {
            if !glob_match(&desc.function, &func) {
                continue;
            }
            let mut add = |name: String, offset: u64, ret: bool| {
                let types: Vec<String> = if ret {
                    vec!["int".into(), "int64_t".into()]
                } else {
                    vec!["int64_t".into(); 6]
                };
                out.push((
                    provider.clone(),
                    ProbeSpec {
                        provider: "pid",
                        module: module.clone(),
                        function: func.clone(),
                        name,
                        args: Types::Types(types),
                    },
                    Site {
                        pid,
                        path: path.clone(),
                        offset,
                        ret,
                    },
                ));
            };
            if glob_match(&desc.name, "entry") {
                add("entry".into(), start, false);
            }
            if glob_match(&desc.name, "return") {
                add("return".into(), start, true);
            }
            if let Some(off) = offset_name.filter(|o| *o < size) {
                add(format!("{off:x}"), start + off, false);
            }
        }
    }
    out
}
/// The `pid` provider (every `pidPID` provider).
pub struct Pid;

/// x86-64 integer argument registers in `pt_regs`: rdi rsi rdx rcx r8 r9.
const ARG_REGS: [u16; 6] = [112, 104, 96, 88, 72, 64];
/// `rax` in `pt_regs`: the return value.
const RET_REG: u16 = 80;

impl Provider for Pid {
    fn name(&self) -> &'static str {
        PREFIX
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        src: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let site = src
            .pid_site(probe.id)
            .ok_or_else(|| format!("no way to attach to {}", probe.full_name()))?;
        one(Attachment::Pid(site))
    }

    fn target(
        &self,
        _: &ProbeInfo,
        attachment: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        let Attachment::Pid(site) = attachment else {
            return Err(format!("pid probes run on uprobes, not {attachment:?}"));
        };
        let reg = |offset: u16| ArgSource::RegValue {
            offset,
            size: 8,
            signed: true,
        };
        let args: Vec<ArgSource> = if site.ret {
            vec![ArgSource::Const(0), reg(RET_REG)]
        } else {
            ARG_REGS.into_iter().map(reg).collect()
        };
        Ok(typed_target(ProgType::Uprobe, args, !site.ret))
    }
}
