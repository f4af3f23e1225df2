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

use super::{ArgSource, ProbeSpec};
use crate::btf::KernelBtf;
use d_lang::catalog::glob_match;
use d_lang::ProbeDesc;

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
                args: ArgSource::Function {
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
