//! How each probe runs in the kernel, asked of its provider: the program
//! type, where `argN` and `args[]` are read from (for code generation),
//! and what each program attaches to.
//!
//! | provider | program | attach | `argN` |
//! |---|---|---|---|
//! | `dtrace` | raw tracepoint program run by the consumer (`BPF_PROG_TEST_RUN`) or a uprobe on the consumer | `lumen_dtrace_begin`/`end`/`error` | ERROR: DTrace's six |
//! | `profile` | perf event | cpu-clock, every CPU (`profile-N`) or CPU 0 (`tick-N`) | arg0 kernel PC, arg1 user PC |
//! | `syscall` | tracepoint | `syscalls:sys_enter_F` / `sys_exit_F` | entry: the call's arguments; return: arg0 = arg1 = return value |
//! | `sdt`, `kvm` | tracepoint | `SUBSYS:EVENT` | the format's fields in order |
//! | `proc`, `sched`, `io` | tracepoint | the probe's tracepoint (see the provider modules), with field filters where probes share one | DTrace's translated structures from the fields |
//! | `ip`, `tcp`, `udp`, `vnic` | tracepoint | the probe's tracepoint | DTrace's network structures from the `sk_buff` and socket, by BTF offsets |
//! | `fbt` | fentry/fexit | the function's BTF id | the arguments; return: arg1 the value |
//! | `pid` | uprobe/uretprobe | the function or instruction | the argument registers; return: arg1 `rax` |
//! | USDT | uprobe | each site of the probe, one program per argument layout | where the note says |
//!
//! [`Targets`] asks [`providers::of`] which provider a probe is and
//! delegates: no provider is named here.

use crate::catalog::LiveCatalog;
use crate::providers;
use d_lang::codegen::{ProbeTarget, TargetResolver};
use d_lang::ProbeInfo;

pub use crate::providers::profile::MIN_TIMER_PERIOD_NS;
pub use crate::providers::Attachment;

/// Resolves probes of a [`LiveCatalog`] to targets and attachments.
pub struct Targets<'a> {
    catalog: &'a LiveCatalog,
}

impl<'a> Targets<'a> {
    /// Targets for probes of `catalog`.
    pub fn new(catalog: &'a LiveCatalog) -> Self {
        Targets { catalog }
    }

    /// What each of the probe's programs attaches to.
    pub fn attachments(&self, probe: &ProbeInfo) -> Result<Vec<Attachment>, String> {
        providers::of(probe, self.catalog).attachments(probe, self.catalog)
    }

    /// What the probe's (first) program attaches to.
    pub fn attachment(&self, probe: &ProbeInfo) -> Result<Attachment, String> {
        self.attachments(probe)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no way to attach to {}", probe.full_name()))
    }

    /// What to attach program `program` to: the attachment of the layout
    /// (variant) it was generated for.
    pub fn program_attachment(
        &self,
        program: &d_lang::codegen::ProgramObj,
    ) -> Result<Attachment, String> {
        self.attachments(&program.probe)?
            .into_iter()
            .nth(program.variant as usize)
            .ok_or_else(|| format!("{}: no such program variant", program.probe.full_name()))
    }
}

impl TargetResolver for Targets<'_> {
    fn kernel_member(&self, strct: &str, member: &str) -> Option<(u32, u32)> {
        crate::btf::KernelBtf::kernel()?.member(strct, member)
    }

    fn targets(&self, probe: &ProbeInfo) -> Result<Vec<ProbeTarget>, String> {
        let provider = providers::of(probe, self.catalog);
        provider
            .attachments(probe, self.catalog)?
            .iter()
            .map(|a| provider.target(probe, a, self.catalog))
            .collect()
    }

    fn target(&self, probe: &ProbeInfo) -> Result<ProbeTarget, String> {
        self.targets(probe)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no way to attach to {}", probe.full_name()))
    }
}
