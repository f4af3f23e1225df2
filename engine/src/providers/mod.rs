//! The providers: each file maps one family of kernel (or consumer) events to DTrace probe names.
//!
//! | provider | probes | file |
//! |---|---|---|
//! | `dtrace` | `dtrace:::BEGIN`, `END`, `ERROR` | [`dtrace`] |
//! | `profile` | `profile:::profile-N`, `profile:::tick-N` (any rate, made on demand) | [`profile`] |
//! | `syscall` | `syscall:vmlinux:NAME:entry` / `return` from `syscalls:sys_enter_NAME` / `sys_exit_NAME` | [`syscall`] |
//! | `sdt` | `sdt:SUBSYSTEM::EVENT` for every other tracepoint `SUBSYSTEM:EVENT` | [`sdt`] |
//!
//! A provider hands the catalogue [`ProbeSpec`]s; argument types are read
//! later, only for probes that a description matched ([`ArgSource`]).

pub mod dtrace;
pub mod profile;
pub mod sdt;
pub mod syscall;

use crate::tracefs::EventName;

/// Where a probe's `args[]` types come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgSource {
    /// The probe has no typed arguments.
    None,
    /// The fields of a tracepoint's `format` file after the `common_*` header.
    Tracepoint(EventName),
    /// A syscall tracepoint: the fields after `__syscall_nr`.
    Syscall(EventName),
}

/// DTrace's stability levels, as `-l -v` prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// Committed interface.
    Stable,
    /// May change between minor releases.
    Evolving,
}

impl Stability {
    /// The word `-l -v` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Stable => "Stable",
            Stability::Evolving => "Evolving",
        }
    }
}

/// The stability of a provider's probe names and arguments.
pub fn stability_of(provider: &str) -> Stability {
    if provider == dtrace::PROVIDER {
        Stability::Stable
    } else {
        Stability::Evolving
    }
}

/// A probe as a provider declares it, before the catalogue numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// Provider name.
    pub provider: &'static str,
    /// Module name.
    pub module: String,
    /// Function name.
    pub function: String,
    /// Probe name.
    pub name: String,
    /// Where `args[]` types come from.
    pub args: ArgSource,
}

impl ProbeSpec {
    /// A probe with no typed arguments.
    pub fn untyped(provider: &'static str, module: &str, function: &str, name: &str) -> Self {
        ProbeSpec {
            provider,
            module: module.to_string(),
            function: function.to_string(),
            name: name.to_string(),
            args: ArgSource::None,
        }
    }
}
