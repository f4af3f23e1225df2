//! The `usdt` provider: a process's SystemTap SDT probes as
//! `PROVIDERpid:MODULE:FUNCTION:NAME` (module the object's basename,
//! function the one holding the site, `__` in the name shown as `-`),
//! as DTrace names its USDT probes.
//!
//! Probes exist for the processes a description names by pid
//! (`myprov1234:::`, `myprov$target:::`) and, for globs (`myprov*:::`), for
//! the processes traced with `-c`/`-p`. A `-c` command that has not run
//! its program yet is read from the program's file.

use super::{ArgSource, ProbeSpec};
use crate::usdt::SdtProbe;
use d_lang::catalog::glob_match;
use d_lang::ProbeDesc;
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

/// The probes of `all` (one process's, from [`all`]) that `desc` matches.
pub fn matching(desc: &ProbeDesc, all: &[ProcessProbe]) -> Vec<ProcessProbe> {
    all.iter()
        .filter(|(provider, spec, _)| {
            glob_match(&desc.provider, provider)
                && glob_match(&desc.module, &spec.module)
                && glob_match(&desc.function, &spec.function)
                && glob_match(&desc.name, &spec.name)
        })
        .cloned()
        .collect()
}

/// Every probe of process `pid`, reading the notes of `objects` (its
/// program and libraries): read once per catalogue, however many
/// descriptions are matched against it.
pub fn all(pid: u32, objects: &[PathBuf]) -> Vec<ProcessProbe> {
    let mut out = Vec::new();
    for path in objects {
        let Ok(probes) = crate::usdt::probes(path) else {
            continue;
        };
        for p in probes {
            let provider = format!("{}{pid}", p.provider);
            let (module, name) = (p.module(), p.d_name());
            // Lumen's own providers declare their D types (`char *`…);
            // other programs' notes only tell sizes.
            let types = match probes::find(&p.provider, &name) {
                Some(desc) if desc.args.len() == p.args.len() => {
                    desc.args.iter().map(|a| a.d_type.to_string()).collect()
                }
                _ => p.args.iter().map(|a| a.d_type().to_string()).collect(),
            };
            let spec = ProbeSpec {
                // The provider name is per process; the catalogue keeps it.
                provider: "usdt",
                module,
                function: p.function.clone(),
                name,
                args: ArgSource::Types(types),
            };
            out.push((provider, spec, Site { pid, probe: p }));
        }
    }
    out
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
