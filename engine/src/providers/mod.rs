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
//! | `cpc` | `cpc:::EVENT-MODE-COUNT`: every COUNT events of a perf counter (made on demand) | [`cpc`] |
//!
//! Each provider is a [`Provider`] in its own file: it lists its probes
//! (as [`ProbeSpec`]s the catalogue numbers), says where their argument
//! types come from ([`ArgSource`], read only for probes a description
//! matched), describes its stability, and chooses each probe's
//! [`Attachment`] and how its program reads `argN` and `args[]`
//! ([`ProbeTarget`]). The stable providers (`proc`, `sched`, `io` and the
//! network ones) declare each probe once as a [`StableProbe`]: its name,
//! the tracepoints it maps onto, DTrace's argument types, and why it
//! cannot be attached yet if it cannot. Providers read the catalogue's
//! state (formats, process sites) through [`ProbeSource`], so they do not
//! depend on the catalogue that depends on them.

pub mod cpc;
pub mod dtrace;
pub mod fbt;
pub mod fields;
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
use crate::tracepoint_format::EventFormat;
use d_lang::codegen::ProbeTarget;
use d_lang::ProbeInfo;

/// What a probe's program is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    /// A kernel tracepoint `subsystem:event`.
    Tracepoint(EventName),
    /// A cpu-clock timer: every CPU or only the first.
    Timer {
        /// Period in nanoseconds.
        period_ns: u64,
        /// Every CPU (`profile-N`) rather than one (`tick-N`).
        all_cpus: bool,
    },
    /// A sampling perf counter on every CPU (`cpc`).
    Counter(crate::sys::perf::Sampler),
    /// A uprobe on one of the consumer's own functions.
    SelfProbe(&'static str),
    /// Uprobes on the USDT sites of one probe of one process, raising its
    /// semaphore. A probe whose sites keep its arguments in different
    /// places has a program for each layout ([`usdt::layouts`]); this
    /// attachment is one layout's sites.
    Usdt(Vec<usdt::Site>),
    /// A uprobe or uretprobe on a function of one process (pid provider).
    Pid(pid::Site),
    /// A BPF trampoline (fentry/fexit) on a kernel function: fbt.
    Trampoline {
        /// The function's BTF id.
        btf_id: u32,
        /// fexit.
        ret: bool,
    },
}

/// What providers read from the catalogue that numbered their probes.
pub trait ProbeSource {
    /// Where probe `id`'s argument types come from.
    fn arg_source(&self, id: u32) -> ArgSource;
    /// The parsed `format` file of a tracepoint, if readable.
    fn event_format(&self, event: &EventName) -> Option<EventFormat>;
    /// The USDT sites of probe `id`, in the order they were noted.
    fn usdt_sites(&self, id: u32) -> Vec<usdt::Site>;
    /// The site of pid provider probe `id`.
    fn pid_site(&self, id: u32) -> Option<pid::Site>;
}

/// One provider: its probes, their stability, and how each one runs.
pub trait Provider: Sync {
    /// The provider's name as probes carry it (per-process providers:
    /// what their names start with).
    fn name(&self) -> &'static str;

    /// The stability of its probe names and arguments.
    fn stability(&self) -> Stability {
        Stability::Evolving
    }

    /// The probes it offers on a kernel with tracepoints `events` (sorted),
    /// in listing order; probes made on demand are not among them.
    fn listed(&self, _events: &[EventName]) -> Vec<ProbeSpec> {
        Vec::new()
    }

    /// The probe named `name` if the provider makes it when a description
    /// names it exactly (`profile:::tick-7ms`, `cpc:::page_faults-user-1`).
    fn on_demand(&self, _name: &str) -> Option<ProbeSpec> {
        None
    }

    /// What each of the probe's programs attaches to: one program, except
    /// for a USDT probe whose sites keep its arguments in several layouts.
    fn attachments(
        &self,
        probe: &ProbeInfo,
        src: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String>;

    /// How the program attached at `attachment` reads the probe's
    /// arguments, and which firings are the probe's.
    fn target(
        &self,
        probe: &ProbeInfo,
        attachment: &Attachment,
        src: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String>;
}

/// Every provider with a fixed name, in the catalogue's listing order.
pub const NAMED: &[&dyn Provider] = &[
    &dtrace::Dtrace,
    &profile::Profile,
    &syscall::SYSCALL,
    &proc::PROC,
    &sched::SCHED,
    &io::IO,
    &ip::IP,
    &tcp::TCP,
    &udp::UDP,
    &vnic::VNIC,
    &kvm::KVM,
    &sdt::SDT,
    &fbt::Fbt,
    &cpc::Cpc,
];

/// The provider with fixed name `name`.
pub fn named(name: &str) -> Option<&'static dyn Provider> {
    NAMED.iter().copied().find(|p| p.name() == name)
}

/// The provider of `probe`: a named one, or the per-process provider
/// (`pid` or USDT) that made it.
pub fn of(probe: &ProbeInfo, src: &dyn ProbeSource) -> &'static dyn Provider {
    match named(&probe.provider) {
        Some(p) => p,
        None if src.pid_site(probe.id).is_some() => &pid::Pid,
        None => &usdt::Usdt,
    }
}

/// How a provider's program reads a probe's arguments (see [`Provider::target`]).
pub type TargetFn = fn(&ProbeInfo, &Attachment, &dyn ProbeSource) -> Result<ProbeTarget, String>;

/// A provider whose probes are listed tracepoints (`syscall`, `kvm`,
/// `sdt`): each attaches to the tracepoint it was made from.
pub struct TracepointProvider {
    /// The provider's name.
    pub name: &'static str,
    /// Its probes among the kernel's tracepoints.
    pub list: fn(&[EventName]) -> Vec<ProbeSpec>,
    /// How a probe's program reads its arguments.
    pub target: TargetFn,
}

impl Provider for TracepointProvider {
    fn name(&self) -> &'static str {
        self.name
    }

    fn listed(&self, events: &[EventName]) -> Vec<ProbeSpec> {
        (self.list)(events)
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        src: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        listed_tracepoint(probe, src)
    }

    fn target(
        &self,
        probe: &ProbeInfo,
        attachment: &Attachment,
        src: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        (self.target)(probe, attachment, src)
    }
}

/// A provider of [`StableProbe`]s (`proc`, `sched`, `io`, the network
/// providers): listed from its table, each probe attached to its first
/// tracepoint.
pub struct StableProvider {
    /// The provider's name.
    pub name: &'static str,
    /// Its stability.
    pub stability: Stability,
    /// Every probe it can offer, in listing order.
    pub probes: &'static [StableProbe],
    /// How a probe's program reads its arguments and keeps its firings.
    pub target: StableTarget,
}

/// How a stable provider's programs read their arguments.
pub enum StableTarget {
    /// From the named fields of the probe's tracepoint (`proc`, `sched`,
    /// `io`), given the probe's name.
    Fields(fn(&str, &fields::Fields) -> ProbeTarget),
    /// Some other way (the network providers read kernel structures).
    Other(TargetFn),
}

impl Provider for StableProvider {
    fn name(&self) -> &'static str {
        self.name
    }

    fn stability(&self) -> Stability {
        self.stability
    }

    fn listed(&self, events: &[EventName]) -> Vec<ProbeSpec> {
        stable_probes(self.name, self.probes, events)
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        _: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        stable_attachment(self.probes, probe).map(|a| vec![a])
    }

    fn target(
        &self,
        probe: &ProbeInfo,
        attachment: &Attachment,
        src: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        match self.target {
            StableTarget::Fields(target) => {
                let fmt = attached_format(attachment, src)?;
                Ok(target(&probe.name, &fields::Fields::new(&fmt)))
            }
            StableTarget::Other(target) => target(probe, attachment, src),
        }
    }
}

/// The `format` of tracepoint `event`, or why it cannot be read.
pub fn format_of(src: &dyn ProbeSource, event: &EventName) -> Result<EventFormat, String> {
    src.event_format(event).ok_or_else(|| {
        format!(
            "cannot read the format of tracepoint {}:{}",
            event.subsystem, event.event
        )
    })
}

/// The tracepoint a listed tracepoint probe (`syscall`, `kvm`, `sdt`) was
/// made from.
pub fn listed_tracepoint(
    probe: &ProbeInfo,
    src: &dyn ProbeSource,
) -> Result<Vec<Attachment>, String> {
    match src.arg_source(probe.id) {
        ArgSource::Tracepoint(ev) | ArgSource::Syscall(ev) => one(Attachment::Tracepoint(ev)),
        _ => Err(format!("no way to attach to {}", probe.full_name())),
    }
}

/// The format of the tracepoint a program is attached to.
pub fn attached_format(
    attachment: &Attachment,
    src: &dyn ProbeSource,
) -> Result<EventFormat, String> {
    match attachment {
        Attachment::Tracepoint(ev) => format_of(src, ev),
        other => Err(format!("{other:?} is not a tracepoint")),
    }
}

/// A plain tracepoint probe's target: the format's fields in order.
pub fn plain_tracepoint(
    _: &ProbeInfo,
    attachment: &Attachment,
    src: &dyn ProbeSource,
) -> Result<ProbeTarget, String> {
    Ok(fields::tracepoint_target(&attached_format(
        attachment, src,
    )?))
}

/// A program whose only attachment is `attachment`.
pub fn one(attachment: Attachment) -> Result<Vec<Attachment>, String> {
    Ok(vec![attachment])
}

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
/// DTrace's own and its stable providers, `Evolving` for kernel-shaped
/// and per-process ones.
pub fn stability_of(provider: &str) -> Stability {
    named(provider).map_or(Stability::Evolving, |p| p.stability())
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
    /// Probe `provider:module::name` on tracepoint `event`, typed by its
    /// format.
    pub fn on_tracepoint(
        provider: &'static str,
        module: &str,
        name: &str,
        event: &EventName,
    ) -> Self {
        ProbeSpec {
            provider,
            module: module.to_string(),
            function: String::new(),
            name: name.to_string(),
            args: ArgSource::Tracepoint(event.clone()),
        }
    }

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
    /// Why the probe is listed but cannot be attached yet, if so.
    pub later: Option<&'static str>,
}

impl StableProbe {
    /// Probe `name` on `tracepoints`, with `args[]` of D types `args`.
    pub const fn new(
        name: &'static str,
        tracepoints: &'static [(&'static str, &'static str)],
        args: &'static [&'static str],
    ) -> Self {
        StableProbe {
            name,
            tracepoints,
            args,
            later: None,
        }
    }

    /// The probe, listed but refused at attach because of `why`.
    pub const fn later(self, why: &'static str) -> Self {
        StableProbe {
            later: Some(why),
            ..self
        }
    }

    /// Whether one of the probe's tracepoints is among `events`.
    pub fn available(&self, events: &[EventName]) -> bool {
        events.iter().any(|e| {
            self.tracepoints
                .iter()
                .any(|(subsystem, event)| e.subsystem == *subsystem && e.event == *event)
        })
    }
}

/// The tracepoint stable probe `probe` of `table` attaches to: its first.
pub fn stable_attachment(table: &[StableProbe], probe: &ProbeInfo) -> Result<Attachment, String> {
    let stable = table
        .iter()
        .find(|p| p.name == probe.name)
        .ok_or_else(|| format!("{} has no mapping", probe.full_name()))?;
    if let Some(why) = stable.later {
        return Err(format!("{} {why} (not implemented yet)", probe.full_name()));
    }
    let (subsystem, event) = stable
        .tracepoints
        .first()
        .ok_or_else(|| format!("{} has no tracepoint", probe.full_name()))?;
    Ok(Attachment::Tracepoint(EventName::new(subsystem, event)))
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
        StableProbe::new("b", &[("x", "missing"), ("x", "there")], &["int"]),
        StableProbe::new("a", &[("x", "absent")], &[]).later("needs a thing"),
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
    fn stable_probes_attach_to_their_first_tracepoint() {
        let probe = |name: &str| ProbeInfo {
            id: 9,
            provider: "prov".into(),
            module: String::new(),
            function: String::new(),
            name: name.into(),
            args: Vec::new(),
        };
        assert_eq!(
            stable_attachment(TABLE, &probe("b")),
            Ok(Attachment::Tracepoint(EventName::new("x", "missing")))
        );
        let later = stable_attachment(TABLE, &probe("a")).unwrap_err();
        assert_eq!(later, "prov:::a needs a thing (not implemented yet)");
        assert!(stable_attachment(TABLE, &probe("c"))
            .unwrap_err()
            .contains("no mapping"));
    }

    #[test]
    fn every_named_provider_is_found_by_its_name() {
        for p in NAMED {
            assert_eq!(named(p.name()).map(|q| q.name()), Some(p.name()));
        }
        assert!(named("usdt").is_none() && named("pid").is_none());
    }

    #[test]
    fn stability() {
        for p in ["dtrace", "proc", "sched", "io"] {
            assert_eq!(stability_of(p), Stability::Stable, "{p}");
        }
        for p in ["syscall", "sdt", "profile", "fbt", "vmm1234", "pid1"] {
            assert_eq!(stability_of(p), Stability::Evolving, "{p}");
        }
    }
}
