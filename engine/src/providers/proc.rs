//! The `proc` provider: DTrace's stable process and thread life-cycle probes on Linux tracepoints.
//!
//! Each probe is `proc:::NAME` (module and function empty) and exists when
//! one of its tracepoints is in tracefs `available_events`. Attaching uses
//! this mapping; "context" is whose `pid`, `execname`, `curpsinfo`… the
//! tracepoint fires in, and "args from" is what the translator fills
//! `args[]` with.
//!
//! | probe | tracepoint | fires when | context | args from |
//! |---|---|---|---|---|
//! | `create` | `task:task_newtask` | `clone_flags` lacks `CLONE_THREAD`: a new process | parent | `args[0]` `psinfo_t *`: the child (`pid`, `comm`) |
//! | `exec` | `syscalls:sys_enter_execve`, `syscalls:sys_enter_execveat` | every call | caller | `args[0]` `string`: the path argument (`filename`) |
//! | `exec-failure` | `syscalls:sys_exit_execve`, `syscalls:sys_exit_execveat` | `ret < 0` | caller | `args[0]` `int`: the errno, `-ret` |
//! | `exec-success` | `sched:sched_process_exec` | every exec that reached the new image | the new image | none |
//! | `exit` | `sched:sched_process_exit` | `group_dead` (the last thread); kernels without the field: the thread-group leader | the exiting process | `args[0]` `int`: `CLD_EXITED`, `CLD_KILLED` or `CLD_DUMPED`, from the task's exit code |
//! | `lwp-create` | `task:task_newtask` | `clone_flags` has `CLONE_THREAD`: a new thread in the creator's process | creator | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the new thread and its process |
//! | `lwp-exit` | `sched:sched_process_exit` | every thread | the exiting thread | none |
//! | `lwp-start` | `sched:sched_process_fork` | `child_pid` is a new thread | parent (see below) | none |
//! | `signal-discard` | `signal:signal_generate` | `result` is `TRACE_SIGNAL_IGNORED` (1) | sender | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the target (`pid`), `args[2]` `int`: `sig` |
//! | `signal-handle` | `signal:signal_deliver` | every delivery to a handler or default action | the receiving thread | `args[0]` `int`: `sig`, `args[1]` `void *`: the `siginfo`, `args[2]` `void *`: `sa_handler` |
//! | `signal-send` | `signal:signal_generate` | `result` is not `TRACE_SIGNAL_IGNORED` | sender | `args[0]` `lwpsinfo_t *`, `args[1]` `psinfo_t *`: the target (`pid`), `args[2]` `int`: `sig` |
//! | `start` | `sched:sched_process_fork` | `child_pid` is a new process | parent (see below) | none |
//!
//! Deviations from DTrace, and why:
//!
//! - `start` and `lwp-start` fire, in DTrace, in the new process or thread
//!   before it first runs. No tracepoint fires in the child's context, so
//!   they fire at the fork in the parent; attaching must make `pid`, `tid`,
//!   `execname`, `curpsinfo` and `curlwpsinfo` describe the child
//!   (`child_pid`).
//! - `signal-handle`'s `args[1]` is `siginfo_t *` and `args[2]` is
//!   `void (*)(void)` in DTrace; the D compiler has no `siginfo_t` and no
//!   function-pointer `args`, so both are `void *`.
//! - `exec` also covers `execveat(2)`, which DTrace's `exec` would too (it
//!   fires in the kernel's one exec path).
//!
//! Omitted, having no honest tracepoint: `fault` (machine faults delivered
//! as signals; Linux traces page faults, not `FLT*` faults) and
//! `signal-clear` (a pending signal consumed by `sigwait(2)`).
//!
//! Probes are listed in name order.

use super::fields::{stable_target, untranslated, view, Fields};
use super::{Stability, StableProbe, StableProvider, StableTarget};
use d_lang::codegen::{ArgSource, FilterCmp, ProbeTarget};

/// The provider's name.
pub const PROVIDER: &str = "proc";

const FORK: (&str, &str) = ("sched", "sched_process_fork");
/// Every new task, in its parent's context, with its clone flags.
const NEWTASK: (&str, &str) = ("task", "task_newtask");
const EXIT: (&str, &str) = ("sched", "sched_process_exit");
const SIGNAL_GENERATE: (&str, &str) = ("signal", "signal_generate");

/// Every `proc` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe::new("create", &[NEWTASK], &["psinfo_t *"]),
    StableProbe::new(
        "exec",
        &[
            ("syscalls", "sys_enter_execve"),
            ("syscalls", "sys_enter_execveat"),
        ],
        &["string"],
    ),
    StableProbe::new(
        "exec-failure",
        &[
            ("syscalls", "sys_exit_execve"),
            ("syscalls", "sys_exit_execveat"),
        ],
        &["int"],
    ),
    StableProbe::new("exec-success", &[("sched", "sched_process_exec")], &[]),
    StableProbe::new("exit", &[EXIT], &["int"]),
    StableProbe::new("lwp-create", &[NEWTASK], &["lwpsinfo_t *", "psinfo_t *"]),
    StableProbe::new("lwp-exit", &[EXIT], &[]),
    StableProbe::new("lwp-start", &[FORK], &[])
        .later("must fire in the new thread's context, which needs its task"),
    StableProbe::new(
        "signal-discard",
        &[SIGNAL_GENERATE],
        &["lwpsinfo_t *", "psinfo_t *", "int"],
    ),
    StableProbe::new(
        "signal-handle",
        &[("signal", "signal_deliver")],
        &["int", "void *", "void *"],
    ),
    StableProbe::new(
        "signal-send",
        &[SIGNAL_GENERATE],
        &["lwpsinfo_t *", "psinfo_t *", "int"],
    ),
    StableProbe::new("start", &[FORK], &[])
        .later("must fire in the new process's context, which needs its task"),
];

/// The `proc` provider.
pub const PROC: StableProvider = StableProvider {
    name: PROVIDER,
    stability: Stability::Stable,
    probes: PROBES,
    target: StableTarget::Fields(target),
};

/// `CLONE_THREAD`: a new thread rather than a new process.
const CLONE_THREAD: i64 = 0x10000;

/// Each probe's arguments and the filters that keep its own firings of a
/// shared tracepoint (see the table above).
fn target(name: &str, f: &Fields) -> ProbeTarget {
    let target = |args: Vec<ArgSource>| stable_target(args, Vec::new());
    match name {
        "exit" => stable_target(
            vec![ArgSource::ExitReason],
            vec![f.filter("group_dead", FilterCmp::Ne, 0)],
        ),
        "exec" => target(vec![f.offset("filename").map_or_else(
            || ArgSource::Unavailable("no filename field".into()),
            |offset| ArgSource::CtxUserString { offset },
        )]),
        "exec-failure" => stable_target(
            vec![ArgSource::Unavailable("errno needs -ret (not yet)".into())],
            vec![f.filter("ret", FilterCmp::Lt, 0)],
        ),
        "create" => stable_target(
            vec![f.ps("pid", "comm")],
            vec![f.filter("clone_flags", FilterCmp::AllClear, CLONE_THREAD)],
        ),
        "lwp-create" => stable_target(
            vec![
                f.lwp("pid", "comm", None),
                view("psinfo_t", &[("pr_fname", f.src("comm"))]),
            ],
            vec![f.filter("clone_flags", FilterCmp::AnySet, CLONE_THREAD)],
        ),
        "signal-send" | "signal-discard" => {
            // TRACE_SIGNAL_IGNORED: the signal was discarded.
            let cmp = if name == "signal-send" {
                FilterCmp::Ne
            } else {
                FilterCmp::Eq
            };
            stable_target(
                vec![
                    f.lwp("pid", "comm", None),
                    f.ps("pid", "comm"),
                    f.int("sig"),
                ],
                vec![f.filter("result", cmp, 1)],
            )
        }
        "signal-handle" => target(vec![f.int("sig"), untranslated(), untranslated()]),
        _ => target(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ArgSource, Provider};
    use crate::tracefs::EventName;

    fn names(events: &[EventName]) -> Vec<String> {
        PROC.listed(events).into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn probes_follow_their_tracepoints() {
        assert!(names(&[EventName::new("sched", "sched_switch")]).is_empty());
        assert_eq!(
            names(&[EventName::new("sched", "sched_process_fork")]),
            ["lwp-start", "start"]
        );
        assert_eq!(
            names(&[EventName::new("task", "task_newtask")]),
            ["create", "lwp-create"]
        );
        assert_eq!(
            names(&[EventName::new("sched", "sched_process_exit")]),
            ["exit", "lwp-exit"]
        );
        assert_eq!(
            names(&[EventName::new("signal", "signal_generate")]),
            ["signal-discard", "signal-send"]
        );
        // Either exec syscall is enough.
        assert_eq!(
            names(&[EventName::new("syscalls", "sys_enter_execveat")]),
            ["exec"]
        );
        assert_eq!(
            names(&[
                EventName::new("sched", "sched_process_exec"),
                EventName::new("syscalls", "sys_exit_execve")
            ]),
            ["exec-failure", "exec-success"]
        );
    }

    #[test]
    fn dtrace_argument_types() {
        let all: Vec<EventName> = PROBES
            .iter()
            .flat_map(|p| p.tracepoints.iter().map(|(s, e)| EventName::new(s, e)))
            .collect();
        let specs = PROC.listed(&all);
        assert_eq!(specs.len(), 12);
        let args = |name: &str| -> &'static [&'static str] {
            match &specs.iter().find(|p| p.name == name).unwrap().args {
                ArgSource::Fixed(a) => a,
                other => panic!("{name}: {other:?}"),
            }
        };
        assert_eq!(args("create"), ["psinfo_t *"]);
        assert_eq!(args("exec"), ["string"]);
        assert_eq!(args("exec-failure"), ["int"]);
        assert_eq!(args("exit"), ["int"]);
        assert_eq!(args("lwp-create"), ["lwpsinfo_t *", "psinfo_t *"]);
        assert_eq!(args("signal-send"), ["lwpsinfo_t *", "psinfo_t *", "int"]);
        assert_eq!(args("signal-handle"), ["int", "void *", "void *"]);
        for none in ["start", "lwp-start", "exec-success", "lwp-exit"] {
            assert!(args(none).is_empty(), "{none}");
        }
        assert!(specs
            .iter()
            .all(|p| p.provider == "proc" && p.module.is_empty() && p.function.is_empty()));
    }
}
