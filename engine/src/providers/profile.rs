//! The `profile` provider: `profile-N` (every CPU) and `tick-N` (one CPU) timers.
//!
//! `N` is a rate in hertz, or a period with a unit: `ns nsec us usec ms msec
//! s sec m min h hour d day`, or `hz` written out (`profile-97`,
//! `tick-10ms`, `tick-1sec`, `profile-199hz`). The probes DTrace lists are
//! always present; any other valid `N` is made when a description names it
//! exactly, as DTrace does. Module and function are empty.

use super::{one, Attachment, ProbeSource, ProbeSpec, Provider};
use crate::tracefs::EventName;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType};
use d_lang::ProbeInfo;

/// The provider's name.
pub const PROVIDER: &str = "profile";

/// The probes listed before anyone asks, in DTrace's order.
pub const LISTED: &[&str] = &[
    "profile-97",
    "profile-199",
    "profile-499",
    "profile-997",
    "profile-1999",
    "profile-4001",
    "profile-4999",
    "tick-1",
    "tick-10",
    "tick-100",
    "tick-500",
    "tick-1000",
    "tick-5000",
];

/// Which kind of timer a probe name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// `profile-N`: fires on every CPU.
    Profile,
    /// `tick-N`: fires on one CPU.
    Tick,
}

/// A decoded `profile-N` / `tick-N` probe name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    /// Every CPU or one.
    pub kind: TimerKind,
    /// The period in nanoseconds.
    pub period_ns: u64,
}

/// Decode a probe name such as `tick-10ms`; `None` if it is not a valid timer.
pub fn parse_timer(name: &str) -> Option<Timer> {
    let (kind, rate) = if let Some(rate) = name.strip_prefix("profile-") {
        (TimerKind::Profile, rate)
    } else if let Some(rate) = name.strip_prefix("tick-") {
        (TimerKind::Tick, rate)
    } else {
        return None;
    };
    let digits = rate
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rate.len());
    let (number, unit) = rate.split_at(digits);
    let n: u64 = number.parse().ok()?;
    if n == 0 {
        return None;
    }
    let unit_ns: u64 = match unit {
        "" | "hz" => {
            return Some(Timer {
                kind,
                period_ns: 1_000_000_000 / n,
            })
            .filter(|t| t.period_ns > 0)
        }
        "ns" | "nsec" => 1,
        "us" | "usec" => 1_000,
        "ms" | "msec" => 1_000_000,
        "s" | "sec" => 1_000_000_000,
        "m" | "min" => 60 * 1_000_000_000,
        "h" | "hour" => 3_600 * 1_000_000_000,
        "d" | "day" => 86_400 * 1_000_000_000,
        _ => return None,
    };
    Some(Timer {
        kind,
        period_ns: n.checked_mul(unit_ns)?,
    })
}

/// The always-present probes.
pub fn listed() -> Vec<ProbeSpec> {
    LISTED.iter().map(|name| probe(name)).collect()
}

/// A probe for `name` if it is a valid timer name, for on-demand creation.
pub fn on_demand(name: &str) -> Option<ProbeSpec> {
    parse_timer(name).map(|_| probe(name))
}

fn probe(name: &str) -> ProbeSpec {
    ProbeSpec::untyped(PROVIDER, "", "", name)
}

/// The shortest `profile-N`/`tick-N` period (DTrace's `profile_interval_min`, 200 µs).
pub const MIN_TIMER_PERIOD_NS: u64 = 200_000;

/// The `profile` provider.
pub struct Profile;

impl Provider for Profile {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn listed(&self, _events: &[EventName]) -> Vec<ProbeSpec> {
        listed()
    }

    fn attachments(
        &self,
        probe: &ProbeInfo,
        _: &dyn ProbeSource,
    ) -> Result<Vec<Attachment>, String> {
        let t = parse_timer(&probe.name).ok_or_else(|| format!("{} is not a timer", probe.name))?;
        // As DTrace's profile_interval_min: faster timers could swamp the
        // machine with interrupts.
        if t.period_ns < MIN_TIMER_PERIOD_NS {
            return Err(format!(
                "{} fires more often than every {} µs, the shortest interval allowed",
                probe.name,
                MIN_TIMER_PERIOD_NS / 1000
            ));
        }
        one(Attachment::Timer {
            period_ns: t.period_ns,
            all_cpus: t.kind == TimerKind::Profile,
        })
    }

    fn on_demand(&self, name: &str) -> Option<ProbeSpec> {
        on_demand(name)
    }

    fn target(
        &self,
        _: &ProbeInfo,
        _: &Attachment,
        _: &dyn ProbeSource,
    ) -> Result<ProbeTarget, String> {
        Ok(sampled_target())
    }
}

/// The program of a probe fired by a sampling perf event (`profile`,
/// `cpc`): `arg0` is the kernel PC of the interrupted thread, `arg1` its
/// user PC.
pub fn sampled_target() -> ProbeTarget {
    ProbeTarget {
        prog_type: ProgType::PerfEvent,
        args: vec![
            ArgSource::PerfPc { user: false },
            ArgSource::PerfPc { user: true },
        ],
        typed_args: None,
        filters: Vec::new(),
        syscall_ret: None,
        function_entry: false,
        netns: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_names() {
        let t = parse_timer("profile-97").unwrap();
        assert_eq!(t.kind, TimerKind::Profile);
        assert_eq!(t.period_ns, 1_000_000_000 / 97);
        assert_eq!(parse_timer("tick-1sec").unwrap().period_ns, 1_000_000_000);
        assert_eq!(parse_timer("tick-10ms").unwrap().period_ns, 10_000_000);
        assert_eq!(parse_timer("tick-5m").unwrap().period_ns, 300_000_000_000);
        assert_eq!(parse_timer("profile-200us").unwrap().period_ns, 200_000);
        assert_eq!(parse_timer("tick-2hz").unwrap().period_ns, 500_000_000);
        assert_eq!(parse_timer("tick-1d").unwrap().kind, TimerKind::Tick);
        assert_eq!(parse_timer("tick-0"), None);
        assert_eq!(parse_timer("tick-"), None);
        assert_eq!(parse_timer("tick-1fortnight"), None);
        assert_eq!(parse_timer("tock-1"), None);
        assert_eq!(parse_timer("tick-2000000000hz"), None);
        assert!(LISTED.iter().all(|n| parse_timer(n).is_some()));
    }
}
