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

use super::{stable_probes, ProbeSpec, StableProbe};
use crate::tracefs::EventName;

/// The provider's name.
pub const PROVIDER: &str = "proc";

const FORK: (&str, &str) = ("sched", "sched_process_fork");
/// Every new task, in its parent's context, with its clone flags.
const NEWTASK: (&str, &str) = ("task", "task_newtask");
const EXIT: (&str, &str) = ("sched", "sched_process_exit");
const SIGNAL_GENERATE: (&str, &str) = ("signal", "signal_generate");

/// Every `proc` probe, in listing order.
pub const PROBES: &[StableProbe] = &[
    StableProbe {
        name: "create",
        tracepoints: &[NEWTASK],
        args: &["psinfo_t *"],
    },
    StableProbe {
        name: "exec",
        tracepoints: &[
            ("syscalls", "sys_enter_execve"),
            ("syscalls", "sys_enter_execveat"),
        ],
        args: &["string"],
    },
    StableProbe {
        name: "exec-failure",
        tracepoints: &[
            ("syscalls", "sys_exit_execve"),
            ("syscalls", "sys_exit_execveat"),
        ],
        args: &["int"],
    },
    StableProbe {
        name: "exec-success",
        tracepoints: &[("sched", "sched_process_exec")],
        args: &[],
    },
    StableProbe {
        name: "exit",
        tracepoints: &[EXIT],
        args: &["int"],
    },
    StableProbe {
        name: "lwp-create",
        tracepoints: &[NEWTASK],
        args: &["lwpsinfo_t *", "psinfo_t *"],
    },
    StableProbe {
        name: "lwp-exit",
        tracepoints: &[EXIT],
        args: &[],
    },
    StableProbe {
        name: "lwp-start",
        tracepoints: &[FORK],
        args: &[],
    },
    StableProbe {
        name: "signal-discard",
        tracepoints: &[SIGNAL_GENERATE],
        args: &["lwpsinfo_t *", "psinfo_t *", "int"],
    },
    StableProbe {
        name: "signal-handle",
        tracepoints: &[("signal", "signal_deliver")],
        args: &["int", "void *", "void *"],
    },
    StableProbe {
        name: "signal-send",
        tracepoints: &[SIGNAL_GENERATE],
        args: &["lwpsinfo_t *", "psinfo_t *", "int"],
    },
    StableProbe {
        name: "start",
        tracepoints: &[FORK],
        args: &[],
    },
];

/// The `proc` probes whose tracepoints are among `events`.
pub fn probes(events: &[EventName]) -> Vec<ProbeSpec> {
    stable_probes(PROVIDER, PROBES, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ArgSource;

    fn names(events: &[EventName]) -> Vec<String> {
        probes(events).into_iter().map(|p| p.name).collect()
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
        let specs = probes(&all);
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
