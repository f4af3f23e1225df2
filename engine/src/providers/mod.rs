//! The providers: each file maps one family of kernel (or consumer) events to DTrace probe names.
//!
//! | provider | probes | file |
//! |---|---|---|
//! | `dtrace` | `dtrace:::BEGIN`, `END`, `ERROR` | [`dtrace`] |
//! | `profile` | `profile:::profile-N`, `profile:::tick-N` (any rate, made on demand) | [`profile`] |
//! | `syscall` | `syscall:vmlinux:NAME:entry` / `return` from `syscalls:sys_enter_NAME` / `sys_exit_NAME` | [`syscall`] |
//! | `proc` | DTrace's stable process probes (`exec-success`, `exit`, `signal-send`…) on `sched`, `signal` and `syscalls` tracepoints | [`proc`] |
//! | `sched` | DTrace's stable scheduler probes (`on-cpu`, `off-cpu`, `wakeup`…) on `sched` tracepoints | [`sched`] |
//! | `io` | DTrace's stable block I/O probes (`start`, `done`) on `block` tracepoints | [`io`] |
//! | `ip`, `tcp`, `udp` | Oracle DTrace for Linux's network probes (`ip:::send`, `tcp:::accept-established`…) on `net`, `sock`, `tcp` and `skb` tracepoints, with DTrace's translated arguments ([`netinfo`]); the zone is the socket's network namespace's | [`ip`], [`tcp`], [`udp`] |
//! | `vnic` | frames through Lumen's vNICs (`tx`, `rx`) and the anti-spoofing classifier's drops (`drop`) | [`vnic`] |
//! | `kvm` | KVM's tracepoints as `kvm:::exit`, `entry`, `pio`, `mmio`, `userspace-exit`… | [`kvm`] |
//! | `sdt` | `sdt:SUBSYSTEM::EVENT` for every other tracepoint `SUBSYSTEM:EVENT` | [`sdt`] |
//! | `fbt` | `fbt:vmlinux:FUNC:entry` / `return` for every function in the kernel's BTF (made on demand) | [`fbt`] |
//!
//! A provider hands the catalogue [`ProbeSpec`]s; argument types are read
//! later, only for probes that a description matched ([`ArgSource`]). The
//! stable providers (`proc`, `sched`, `io`) declare each probe once as a
//! [`StableProbe`]: its name, the tracepoints it maps onto and DTrace's
//! argument types.

pub mod dtrace;
pub mod fbt;
pub mod io;
pub mod ip;
pub mod kvm;
pub mod netinfo;
pub mod pid;
pub mod proc;
pub mod profile;
pub mod sched;
pub mod sdt;
pub mod syscall;
pub mod syscall_numbers;
pub mod tcp;
pub mod udp;
pub mod usdt;
pub mod vnic;

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
    /// Types fixed by the provider (a stable provider's translated
    /// `args[]`): D type text, also used as the native type.
    Fixed(&'static [&'static str]),
    /// Types known when the probe was made (a USDT probe's, from its note).
    Types(Vec<String>),
    /// A kernel function's parameters (or, for `return`, its offset and
    /// return value) from BTF.
    Function {
        /// The function's name.
        name: String,
        /// The `return` probe.
        ret: bool,
    },
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

/// The stability of a provider's probe names and arguments: `Stable` for
/// DTrace's own and its stable providers, `Evolving` for kernel-shaped ones.
pub fn stability_of(provider: &str) -> Stability {
    if [
        dtrace::PROVIDER,
        proc::PROVIDER,
        sched::PROVIDER,
        io::PROVIDER,
        ip::PROVIDER,
        tcp::PROVIDER,
        udp::PROVIDER,
    ]
    .contains(&provider)
    {
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

/// One probe of a stable provider (`proc`, `sched`, `io`) and the kernel
/// tracepoints it is built on.
///
/// The probe exists when any of its tracepoints is in `available_events`.
/// Which firings of a tracepoint are this probe, and in whose context, is
/// written in the provider's module doc; attaching reads it from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StableProbe {
    /// The probe name, e.g. `exec-success`.
    pub name: &'static str,
    /// The tracepoints, as `(subsystem, event)`.
    pub tracepoints: &'static [(&'static str, &'static str)],
    /// `args[]` D types, as DTrace documents them.
    pub args: &'static [&'static str],
}

impl StableProbe {
    /// Whether one of the probe's tracepoints is among `events`.
    pub fn available(&self, events: &[EventName]) -> bool {
        events.iter().any(|e| {
            self.tracepoints
                .iter()
                .any(|(subsystem, event)| e.subsystem == *subsystem && e.event == *event)
        })
    }
}

/// The probes of a stable provider whose tracepoints are among `events`,
/// in the order of `table`; module and function are empty.
pub fn stable_probes(
    provider: &'static str,
    table: &[StableProbe],
    events: &[EventName],
) -> Vec<ProbeSpec> {
    table
        .iter()
        .filter(|p| p.available(events))
        .map(|p| ProbeSpec {
            provider,
            module: String::new(),
            function: String::new(),
            name: p.name.to_string(),
            args: ArgSource::Fixed(p.args),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[StableProbe] = &[
        StableProbe {
            name: "b",
            tracepoints: &[("x", "missing"), ("x", "there")],
            args: &["int"],
        },
        StableProbe {
            name: "a",
            tracepoints: &[("x", "absent")],
            args: &[],
        },
    ];

    #[test]
    fn stable_probes_need_a_tracepoint() {
        let events = [
            EventName::new("a", "z"),
            EventName::new("x", "there"),
            EventName::new("y", "absent"),
        ];
        let specs = stable_probes("prov", TABLE, &events);
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].name, "b");
        assert_eq!(
            (specs[0].module.as_str(), specs[0].function.as_str()),
            ("", "")
        );
        assert_eq!(specs[0].args, ArgSource::Fixed(&["int"]));
        assert!(stable_probes("prov", TABLE, &[]).is_empty());
    }

    #[test]
    fn stability() {
        for p in ["dtrace", "proc", "sched", "io"] {
            assert_eq!(stability_of(p), Stability::Stable, "{p}");
        }
        for p in ["syscall", "sdt", "profile"] {
            assert_eq!(stability_of(p), Stability::Evolving, "{p}");
        }
    }
}
