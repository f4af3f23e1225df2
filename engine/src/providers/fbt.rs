//! The `fbt` provider: `fbt:vmlinux:FUNC:entry` and `:return` for every
//! kernel function the kernel's BTF describes, with `args[]` typed from the
//! function's prototype.
//!
//! The probes are made when a description can match them (there are tens
//! of thousands), like `profile`'s. They would run as fentry/fexit
//! programs on BPF trampolines; where the kernel refuses those (as some
//! hardened or nested kernels do), enabling one is a clear error, found
//! once per process by loading a minimal fentry program
//! ([`crate::sys::bpf::trampolines_refused`]).

use super::fields::typed_target;
use super::{one, ArgSource as Types, Attachment, ProbeSource, ProbeSpec, Provider};
use crate::btf::KernelBtf;
use d_lang::catalog::glob_match;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeDesc;
use d_lang::ProbeInfo;

/// The provider's name.
pub const PROVIDER: &str = "fbt";
/// The module of core kernel functions.
pub const MODULE: &str = "vmlinux";

/// Probes `desc` can match: each BTF function whose name matches, with
/// `entry` and `return` as the name allows. Empty without kernel BTF.
pub fn matching(desc: &ProbeDesc) -> Vec<ProbeSpec> {
    if !glob_match(&desc.provider, PROVIDER) || !glob_match(&desc.module, MODULE) {
        return Vec::new();
    }
    let names: Vec<&str> = ["entry", "return"]
        .into_iter()
        .filter(|n| glob_match(&desc.name, n))
        .collect();
    if names.is_empty() {
        return Vec::new();
    }
    let Some(btf) = KernelBtf::kernel() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (func, _) in btf.functions() {
        if !glob_match(&desc.function, func) {
            continue;
        }
        for name in &names {
            out.push(ProbeSpec {
                provider: PROVIDER,
                module: MODULE.into(),
                function: func.to_string(),
                name: name.to_string(),
                args: Types::Function {
                    name: func.to_string(),
                    ret: *name == "return",
                },
            });
        }
    }
    out
}

/// `args[]` types of a function's probe: its parameters at `entry`; at
/// `return`, DTrace's pair of the return offset (unknown here: 0) and the
/// return value.
pub fn arg_types(func: &str, ret: bool) -> Vec<(String, String)> {
    let Some(btf) = KernelBtf::kernel() else {
        return Vec::new();
    };
    let Some((params, rtype)) = btf.function(func).and_then(|id| btf.signature(id)) else {
        return Vec::new();
    };
    if ret {
        vec![("offset".into(), "int".into()), ("rval".into(), rtype)]
    } else {
        params
    }
}
/// The `fbt` provider.
pub struct Fbt;

impl Provider for Fbt {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        _: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let btf =
            KernelBtf::kernel().ok_or("fbt needs the kernel's BTF (/sys/kernel/btf/vmlinux)")?;
        let btf_id = btf
            .function(&probe.function)
            .ok_or_else(|| format!("fbt: no BTF for kernel function {}", probe.function))?;
        if let Some(why) = crate::sys::bpf::trampolines_refused(btf_id) {
            return Err(format!("fbt: kernel refuses BPF trampolines ({why})"));
        }
        one(Attachment::Trampoline {
            btf_id,
            ret: probe.name == "return",
        })
    }

    /// A trampoline's context is the arguments as u64s, then the return
    /// value: entry reads the arguments, return the value as `arg1`.
    fn target(
        &self,
        _: &ProbeInfo,
        attachment: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        let Attachment::Trampoline { btf_id, ret } = *attachment else {
            return Err(format!("fbt probes run on trampolines, not {attachment:?}"));
        };
        let nargs = KernelBtf::kernel()
            .and_then(|b| b.signature(btf_id))
            .map_or(0, |(p, _)| p.len()) as u16;
        let slot = |i: u16| ArgSource::CtxField {
            offset: 8 * i,
            size: 8,
            signed: false,
        };
        let args: Vec<ArgSource> = if ret {
            vec![ArgSource::Const(0), slot(nargs)]
        } else {
            (0..nargs).map(slot).collect()
        };
        Ok(typed_target(
            ProgType::Trampoline { btf_id, ret },
            args,
            false,
        ))
    }
}
