//! The `cpc` provider: `cpc:::EVENT-MODE-COUNT` fires on each CPU every
//! COUNT events of a perf counter, as DTrace's CPU performance counter
//! provider does.
//!
//! EVENT is perf's name for a generic event with `_` for `-`
//! (`cpu_clock`, `page_faults`, `instructions`…), MODE is `user`, `kernel`
//! or `all` (which privilege levels count), COUNT the overflow count
//! (nanoseconds for the two clocks). The kernel's software events are
//! always there; the hardware ones are listed only where a CPU PMU exposes
//! them in sysfs. Each event is listed in the three modes at a default
//! count; any other count is made when a description names it exactly, as
//! `profile-N` is. `arg0` is the kernel PC and `arg1` the user PC where the
//! counter overflowed, as for `profile`.

use super::{one, profile, Attachment, ProbeSource, ProbeSpec, Provider};
use crate::sys::perf::{CountMode, Sampler};
use crate::tracefs::EventName;
use d_lang::codegen::ProbeTarget;
use d_lang::ProbeInfo;
use std::path::Path;

/// The provider's name.
pub const PROVIDER: &str = "cpc";

const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_TYPE_SOFTWARE: u32 = 1;

/// What a counter counts, which bounds its overflow count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Nanoseconds of a clock: no faster than `profile`'s shortest timer.
    Time,
    /// Kernel events (faults, switches): any count.
    Occurrence,
    /// Hardware events, which happen billions of times a second: DTrace's
    /// `dcpc_min_overflow`.
    Hardware,
}

impl Unit {
    fn min_count(self) -> u64 {
        match self {
            Unit::Time => profile::MIN_TIMER_PERIOD_NS,
            Unit::Occurrence => 1,
            Unit::Hardware => 5_000,
        }
    }

    fn listed_count(self) -> u64 {
        match self {
            Unit::Time => 10_000_000,
            Unit::Occurrence => 1_000,
            Unit::Hardware => 100_000,
        }
    }
}

/// One perf generic event.
struct CpcEvent {
    /// The probe name's EVENT.
    name: &'static str,
    perf_type: u32,
    config: u64,
    unit: Unit,
}

impl CpcEvent {
    /// perf's own name for it (its sysfs file name for hardware events).
    fn perf_name(&self) -> String {
        self.name.replace('_', "-")
    }
}

const fn sw(name: &'static str, config: u64, unit: Unit) -> CpcEvent {
    CpcEvent {
        name,
        perf_type: PERF_TYPE_SOFTWARE,
        config,
        unit,
    }
}

const fn hw(name: &'static str, config: u64) -> CpcEvent {
    CpcEvent {
        name,
        perf_type: PERF_TYPE_HARDWARE,
        config,
        unit: Unit::Hardware,
    }
}

/// perf's generic events (`PERF_COUNT_SW_*`, `PERF_COUNT_HW_*`).
const EVENTS: &[CpcEvent] = &[
    sw("cpu_clock", 0, Unit::Time),
    sw("task_clock", 1, Unit::Time),
    sw("page_faults", 2, Unit::Occurrence),
    sw("context_switches", 3, Unit::Occurrence),
    sw("cpu_migrations", 4, Unit::Occurrence),
    sw("minor_faults", 5, Unit::Occurrence),
    sw("major_faults", 6, Unit::Occurrence),
    sw("alignment_faults", 7, Unit::Occurrence),
    sw("emulation_faults", 8, Unit::Occurrence),
    hw("cpu_cycles", 0),
    hw("instructions", 1),
    hw("cache_references", 2),
    hw("cache_misses", 3),
    hw("branch_instructions", 4),
    hw("branch_misses", 5),
    hw("bus_cycles", 6),
    hw("stalled_cycles_frontend", 7),
    hw("stalled_cycles_backend", 8),
    hw("ref_cycles", 9),
];

const MODES: &[(&str, CountMode)] = &[
    ("all", CountMode::All),
    ("user", CountMode::User),
    ("kernel", CountMode::Kernel),
];

/// Where the CPU PMUs list their events (`cpu` on most machines,
/// `cpu_core`/`cpu_atom` on hybrid ones).
const PMU_ROOT: &str = "/sys/bus/event_source/devices";

/// Whether this machine counts `event`.
fn available(event: &CpcEvent, pmu_root: &Path) -> bool {
    if event.perf_type == PERF_TYPE_SOFTWARE {
        return true;
    }
    ["cpu", "cpu_core", "cpu_atom"].iter().any(|pmu| {
        pmu_root
            .join(pmu)
            .join("events")
            .join(event.perf_name())
            .exists()
    })
}

/// A decoded `EVENT-MODE-COUNT`, if `name` is one this machine can count.
pub fn parse(name: &str) -> Option<Sampler> {
    parse_in(name, Path::new(PMU_ROOT)).map(|(s, _)| s)
}

fn parse_in(name: &str, pmu_root: &Path) -> Option<(Sampler, &'static CpcEvent)> {
    let mut parts = name.split('-');
    let (event, mode, count) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let event = EVENTS
        .iter()
        .find(|e| e.name == event && available(e, pmu_root))?;
    let mode = MODES.iter().find(|(m, _)| *m == mode)?.1;
    let period: u64 = count.parse().ok().filter(|&n| n > 0)?;
    Some((
        Sampler {
            perf_type: event.perf_type,
            config: event.config,
            period,
            mode,
        },
        event,
    ))
}

fn listed_in(pmu_root: &Path) -> Vec<ProbeSpec> {
    let mut out = Vec::new();
    for event in EVENTS.iter().filter(|e| available(e, pmu_root)) {
        for (mode, _) in MODES {
            let name = format!("{}-{mode}-{}", event.name, event.unit.listed_count());
            out.push(ProbeSpec::untyped(PROVIDER, "", "", &name));
        }
    }
    out
}

/// The `cpc` provider.
pub struct Cpc;

impl Provider for Cpc {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn listed(&self, _events: &[EventName]) -> Vec<ProbeSpec> {
        listed_in(Path::new(PMU_ROOT))
    }

    fn on_demand(&self, name: &str) -> Option<ProbeSpec> {
        parse(name).map(|_| ProbeSpec::untyped(PROVIDER, "", "", name))
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        _: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let (sampler, event) = parse_in(&probe.name, Path::new(PMU_ROOT))
            .ok_or_else(|| format!("{} is not a counter this machine has", probe.name))?;
        let min = event.unit.min_count();
        if sampler.period < min {
            return Err(format!(
                "{} overflows more often than every {min} {}, the smallest count allowed",
                probe.name,
                if event.unit == Unit::Time {
                    "ns"
                } else {
                    "events"
                }
            ));
        }
        one(Attachment::Counter(sampler))
    }

    fn target(
        &self,
        _: &ProbeInfo,
        _: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        Ok(profile::sampled_target())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let none = Path::new("/nonexistent");
        let (s, e) = parse_in("page_faults-user-1", none).unwrap();
        assert_eq!((s.perf_type, s.config, s.period), (1, 2, 1));
        assert_eq!(s.mode, CountMode::User);
        assert_eq!(e.unit, Unit::Occurrence);
        let (s, _) = parse_in("cpu_clock-all-10000", none).unwrap();
        assert_eq!((s.config, s.mode), (0, CountMode::All));
        assert_eq!(
            parse_in("cpu_clock-kernel-5", none).unwrap().0.mode,
            CountMode::Kernel
        );
        for bad in [
            "page_faults-user",
            "page_faults-user-0",
            "page_faults-user-1-2",
            "page_faults-users-1",
            "page-faults-user-1",
            "page_faults-user-+1",
            "page_faults-user-99999999999999999999",
            "instructions-user-100000",
        ] {
            assert!(parse_in(bad, none).is_none(), "{bad}");
        }
    }

    #[test]
    fn hardware_events_only_where_a_pmu_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(listed_in(dir.path()).len(), 9 * 3);
        std::fs::create_dir_all(dir.path().join("cpu/events")).unwrap();
        std::fs::write(dir.path().join("cpu/events/instructions"), "event=0xc0\n").unwrap();
        let listed = listed_in(dir.path());
        assert_eq!(listed.len(), 10 * 3);
        assert!(listed.iter().any(|p| p.name == "instructions-user-100000"));
        assert_eq!(
            parse_in("instructions-user-100000", dir.path())
                .unwrap()
                .0
                .perf_type,
            PERF_TYPE_HARDWARE
        );
        assert!(parse_in("cpu_cycles-user-100000", dir.path()).is_none());
    }

    #[test]
    fn listed_names_parse() {
        for p in listed_in(Path::new("/nonexistent")) {
            assert!(
                parse_in(&p.name, Path::new("/nonexistent")).is_some(),
                "{}",
                p.name
            );
        }
    }
}
