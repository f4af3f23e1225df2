//! The `sched` provider: DTrace's stable CPU-scheduling probes on the kernel's `sched` tracepoints.
//!
//! Each probe is `sched:::NAME` (module and function empty) and exists when
//! its tracepoint is in tracefs `available_events`. Attaching uses this
//! mapping; "context" is whose `pid`, `execname`, `curlwpsinfo`… the
//! tracepoint fires in.
//!
//! | probe | tracepoint | fires when | context | args from |
//! |---|---|---|---|---|
//! | `change-pri` | `sched:sched_pi_setprio` | every priority-inheritance change | the thread causing it (a waiter boosting the lock owner, or the owner unlocking) | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the thread (`pid`), `args[2]` `int`: `newprio` |
//! | `off-cpu` | `sched:sched_switch` | every switch | the thread leaving (`prev_*`) | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the thread coming on (`next_pid`) |
//! | `on-cpu` | `sched:sched_switch` | every switch | the thread coming on (see below) | none |
//! | `preempt` | `sched:sched_switch` | `prev_state` is `TASK_REPORT_MAX` (preempted, printed `R+`) | the thread leaving | none |
//! | `sleep` | `sched:sched_switch` | `prev_state` is neither 0 (`R`, still runnable) nor `TASK_REPORT_MAX` | the thread leaving | none |
//! | `wakeup` | `sched:sched_waking` | every wakeup | the waker | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the thread woken (`pid`) |
//!
//! Judgement calls, and deviations from DTrace:
//!
//! - `on-cpu` fires, in DTrace, in the thread that just came on CPU. The
//!   switch tracepoint fires just before the switch, in the thread leaving,
//!   so attaching must make `pid`, `tid`, `execname`, `curpsinfo` and
//!   `curlwpsinfo` describe `next_pid`.
//! - `wakeup` uses `sched_waking`, not `sched_wakeup`: `sched_waking` fires
//!   in the waker, as DTrace's `wakeup` does, while `sched_wakeup` can fire
//!   on the target CPU, in whatever thread runs there.
//! - `change-pri` sees only priority-inheritance boosts and their undoing
//!   (the one priority change with a tracepoint); `nice(2)`,
//!   `setpriority(2)` and `sched_setscheduler(2)` do not fire it.
//!
//! Omitted, having no honest tracepoint: `enqueue` and `dequeue` (no
//! tracepoint marks run-queue insertion or removal; `sched_wakeup` would
//! miss migrations, and a running Linux thread stays on its run queue, so
//! DTrace's dequeue-on-switch has no counterpart; they need fentry on
//! `enqueue_task`/`dequeue_task`), `remain-cpu` (Linux traces no switch when
//! the same thread is picked again), `tick` (no scheduler-tick tracepoint;
//! `profile:::tick-N` and `profile-N` sample instead), `surrender`,
//! `cpucaps-sleep`, `cpucaps-wakeup` and the `schedctl-*` probes (illumos
//! mechanisms Linux lacks).
//!
//! Probes are listed in name order.

use super::fields::{stable_target, Fields};
use super::{Stability, StableProbe, StableProvider, StableTarget};
use d_lang::codegen::{FilterCmp, ProbeTarget};

/// The provider's name.
pub const PROVIDER: &str = "sched";

const SWITCH: (&str, &str) = ("sched", "sched_switch");

/// Every `sched` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe::new(
        "change-pri",
        &[("sched", "sched_pi_setprio")],
        &["lwpsinfo_t *", "psinfo_t *", "int"],
    ),
    StableProbe::new("off-cpu", &[SWITCH], &["lwpsinfo_t *", "psinfo_t *"]),
    StableProbe::new("on-cpu", &[SWITCH], &[]).later("must fire in the incoming thread's context"),
    StableProbe::new("preempt", &[SWITCH], &[]),
    StableProbe::new("sleep", &[SWITCH], &[]),
    StableProbe::new(
        "wakeup",
        &[("sched", "sched_waking")],
        &["lwpsinfo_t *", "psinfo_t *"],
    ),
];

/// The `sched` provider.
pub const SCHED: StableProvider = StableProvider {
    name: PROVIDER,
    stability: Stability::Stable,
    probes: PROBES,
    target: StableTarget::Fields(target),
};

/// `TASK_REPORT_MAX`: the `prev_state` `sched_switch` records for a preemption.
const PREEMPTED: i64 = 0x100;

/// Each probe's arguments, and for the probes sharing `sched_switch` the
/// `prev_state` that tells a sleep from a preemption.
fn target(name: &str, f: &Fields) -> ProbeTarget {
    match name {
        "off-cpu" => stable_target(
            vec![
                f.lwp("next_pid", "next_comm", Some("next_prio")),
                f.ps("next_pid", "next_comm"),
            ],
            Vec::new(),
        ),
        "wakeup" => stable_target(
            vec![f.lwp("pid", "comm", Some("prio")), f.ps("pid", "comm")],
            Vec::new(),
        ),
        "sleep" => stable_target(
            Vec::new(),
            vec![
                f.filter("prev_state", FilterCmp::Ne, 0),
                f.filter("prev_state", FilterCmp::Ne, PREEMPTED),
            ],
        ),
        "preempt" => stable_target(
            Vec::new(),
            vec![f.filter("prev_state", FilterCmp::Eq, PREEMPTED)],
        ),
        "change-pri" => stable_target(
            vec![
                f.lwp("pid", "comm", Some("oldprio")),
                f.ps("pid", "comm"),
                f.int("newprio"),
            ],
            Vec::new(),
        ),
        _ => stable_target(Vec::new(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ArgSource, Provider};
    use crate::tracefs::EventName;

    #[test]
    fn probes_follow_their_tracepoints() {
        let names = |events: &[EventName]| -> Vec<String> {
            SCHED.listed(events).into_iter().map(|p| p.name).collect()
        };
        assert_eq!(
            names(&[EventName::new("sched", "sched_switch")]),
            ["off-cpu", "on-cpu", "preempt", "sleep"]
        );
        assert_eq!(
            names(&[EventName::new("sched", "sched_waking")]),
            ["wakeup"]
        );
        assert!(names(&[EventName::new("sched", "sched_wakeup")]).is_empty());
        assert_eq!(
            names(&[EventName::new("sched", "sched_pi_setprio")]),
            ["change-pri"]
        );
    }

    #[test]
    fn dtrace_argument_types() {
        let all = [
            EventName::new("sched", "sched_pi_setprio"),
            EventName::new("sched", "sched_switch"),
            EventName::new("sched", "sched_waking"),
        ];
        let specs = SCHED.listed(&all);
        assert_eq!(specs.len(), 6);
        let args = |name: &str| match &specs.iter().find(|p| p.name == name).unwrap().args {
            ArgSource::Fixed(a) => *a,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(args("off-cpu"), ["lwpsinfo_t *", "psinfo_t *"]);
        assert_eq!(args("wakeup"), ["lwpsinfo_t *", "psinfo_t *"]);
        assert_eq!(args("change-pri"), ["lwpsinfo_t *", "psinfo_t *", "int"]);
        for none in ["on-cpu", "preempt", "sleep"] {
            assert!(args(none).is_empty(), "{none}");
        }
    }
}
