//! The `usdt` provider: a process's SystemTap SDT probes as
//! `PROVIDERpid:MODULE:FUNCTION:NAME` (module the object's basename,
//! function the one holding the site, `__` in the name shown as `-`),
//! as DTrace names its USDT probes.
//!
//! Probes exist for the processes a description names by pid
//! (`myprov1234:::`, `myprov$target:::`) and, for globs (`myprov*:::`), for
//! the processes traced with `-c`/`-p`. A `-c` command that has not run
//! its program yet is read from the program's file.

use super::fields::typed_target;
use super::{ArgSource as Types, Attachment, ProbeSource, ProbeSpec, Provider};
use crate::sdt_notes::SdtProbe;
use d_lang::catalog::glob_match;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeDesc;
use d_lang::ProbeInfo;
use std::path::PathBuf;

/// A probe site to attach: the object, its site and semaphore, and the
/// process to trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The process.
    pub pid: u32,
    /// The probe as the note describes it.
    pub probe: SdtProbe,
}

/// Split `prov1234` into `("prov", 1234)`.
pub fn split_pid(provider: &str) -> Option<(&str, u32)> {
    let digits = provider.len()
        - provider
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .len();
    if digits == 0 || digits == provider.len() {
        return None;
    }
    let (name, pid) = provider.split_at(provider.len() - digits);
    Some((name, pid.parse().ok()?))
}

/// One USDT probe site of a process, as the catalogue offers it: its
/// per-process provider name (`myprov1234`), the probe, and the site.
pub type ProcessProbe = (String, ProbeSpec, Site);

/// The SDT notes of one process's objects, read once per catalogue; the
/// functions holding the sites are read only for an object some of whose
/// probes a description matches.
#[derive(Debug)]
pub struct ProcessNotes {
    pid: u32,
    objects: Vec<ObjectNotes>,
}

#[derive(Debug)]
struct ObjectNotes {
    path: PathBuf,
    probes: Vec<SdtProbe>,
    functions: std::sync::OnceLock<Vec<(u64, u64, String)>>,
}

impl ProcessNotes {
    /// The notes of process `pid`'s `objects` (its program and libraries).
    pub fn read(pid: u32, objects: &[PathBuf]) -> ProcessNotes {
        ProcessNotes {
            pid,
            objects: objects
                .iter()
                .filter_map(|path| {
                    let probes = crate::sdt_notes::probes(path).ok()?;
                    (!probes.is_empty()).then(|| ObjectNotes {
                        path: path.clone(),
                        probes,
                        functions: std::sync::OnceLock::new(),
                    })
                })
                .collect(),
        }
    }

    /// The probes that `desc` matches: each one's provider name, probe
    /// and site.
    pub fn matching(&self, desc: &ProbeDesc) -> Vec<ProcessProbe> {
        let pid = self.pid;
        let mut out = Vec::new();
        for object in &self.objects {
            for p in &object.probes {
                let provider = format!("{}{pid}", p.provider);
                let (module, name) = (p.module(), p.d_name());
                if !(glob_match(&desc.provider, &provider)
                    && glob_match(&desc.module, &module)
                    && glob_match(&desc.name, &name))
                {
                    continue;
                }
                let functions = object
                    .functions
                    .get_or_init(|| crate::sdt_notes::functions(&object.path));
                let function = crate::sdt_notes::function_at(functions, p.pc);
                if !glob_match(&desc.function, &function) {
                    continue;
                }
                let mut probe = p.clone();
                probe.function = function;
                // Lumen's own providers declare their D types (`char *`…);
                // other programs' notes only tell sizes.
                let types = match probes::find(&probe.provider, &name) {
                    Some(desc) if desc.args.len() == probe.args.len() => {
                        desc.args.iter().map(|a| a.d_type.to_string()).collect()
                    }
                    _ => probe.args.iter().map(|a| a.d_type().to_string()).collect(),
                };
                let spec = ProbeSpec {
                    // The provider name is per process; the catalogue keeps it.
                    provider: "usdt",
                    module,
                    function: probe.function.clone(),
                    name,
                    args: Types::Types(types),
                };
                out.push((provider, spec, Site { pid, probe }));
            }
        }
        out
    }
}

/// The USDT provider (every `PROVIDERpid` provider of a traced process).
pub struct Usdt;

impl Provider for Usdt {
    fn name(&self) -> &'static str {
        "usdt"
    }

    /// One program per layout of the probe's sites, so every site of
    /// every probe is traced.
    fn attachments(
        &self,
        probe: &ProbeInfo,
        src: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let groups = layouts(src.usdt_sites(probe.id));
        if groups.is_empty() {
            return Err(format!("no way to attach to {}", probe.full_name()));
        }
        Ok(groups.into_iter().map(Attachment::Usdt).collect())
    }

    /// Registers read from `pt_regs`, memory at a register plus a
    /// displacement, constants: where this layout's sites keep each
    /// argument.
    fn target(
        &self,
        _: &ProbeInfo,
        attachment: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        use crate::sdt_notes::ArgLoc;
        let Attachment::Usdt(sites) = attachment else {
            return Err(format!("USDT probes run on uprobes, not {attachment:?}"));
        };
        let args: Vec<ArgSource> = sites
            .first()
            .map(|s| s.probe.args.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|a| match a.loc {
                ArgLoc::Reg(offset) => ArgSource::RegValue {
                    offset,
                    size: a.size,
                    signed: a.signed,
                },
                ArgLoc::Mem { reg, disp } => ArgSource::UserMem {
                    reg,
                    disp,
                    size: a.size,
                    signed: a.signed,
                },
                ArgLoc::Imm(v) => ArgSource::Const(v as u64),
            })
            .collect();
        Ok(typed_target(ProgType::Uprobe, args, false))
    }
}

/// Sites grouped by where they keep the probe's arguments (the compiler
/// may put them in other registers at each site), groups in the order
/// their first site was noted.
pub fn layouts(sites: Vec<Site>) -> Vec<Vec<Site>> {
    let mut groups: Vec<Vec<Site>> = Vec::new();
    for site in sites {
        match groups
            .iter_mut()
            .find(|g| g[0].probe.args == site.probe.args)
        {
            Some(g) => g.push(site),
            None => groups.push(vec![site]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_pids() {
        assert_eq!(split_pid("myprov1234"), Some(("myprov", 1234)));
        assert_eq!(split_pid("myprov"), None);
        assert_eq!(split_pid("1234"), None);
        assert_eq!(split_pid("a1"), Some(("a", 1)));
    }
}
