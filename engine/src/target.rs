//! How each probe runs in the kernel: the program type, where `argN` and
//! `args[]` are read from (for code generation), and what to attach to.
//!
//! | provider | program | attach | `argN` |
//! |---|---|---|---|
//! | `dtrace` | raw tracepoint program run by the consumer (`BPF_PROG_TEST_RUN`): nothing to attach | none |
//! | `profile` | perf event | cpu-clock, every CPU (`profile-N`) or CPU 0 (`tick-N`) | arg0 kernel PC, arg1 user PC |
//! | `syscall` | tracepoint | `syscalls:sys_enter_F` / `sys_exit_F` | entry: the call's arguments; return: arg0 = arg1 = return value |
//! | `sdt` | tracepoint | `SUBSYS:EVENT` | the format's fields in order |
//! | `proc`, `sched`, `io` | tracepoint | the tracepoint of each probe (see the provider modules), with field filters where probes share one | integer and string arguments; translated ones (`psinfo_t *`…) need translators (not yet) |

use crate::catalog::LiveCatalog;
use crate::providers::{self, ArgSource as CatalogArgs};
use crate::tracefs::EventName;
use crate::tracepoint_format::{EventFormat, FieldStorage};
use d_lang::codegen::{
    ArgSource, FieldOp, Filter, FilterCmp, ProbeTarget, ProgType, TargetResolver,
};
use d_lang::ProbeInfo;

/// The shortest `profile-N`/`tick-N` period (DTrace's `profile_interval_min`, 200 µs).
pub const MIN_TIMER_PERIOD_NS: u64 = 200_000;

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
    /// A uprobe on one of the consumer's own functions.
    SelfProbe(&'static str),
    /// Uprobes on the USDT sites of one probe of one process, raising its
    /// semaphore. A probe whose sites keep its arguments in different
    /// places has a program for each layout ([`Targets::usdt_layouts`]);
    /// this attachment is one layout's sites.
    Usdt(Vec<crate::providers::usdt::Site>),
    /// A uprobe or uretprobe on a function of one process (pid provider).
    Pid(crate::providers::pid::Site),
    /// A BPF trampoline (fentry/fexit) on a kernel function: fbt.
    Trampoline {
        /// The function's BTF id.
        btf_id: u32,
        /// fexit.
        ret: bool,
    },
}

/// Resolves probes of a [`LiveCatalog`] to targets and attachments.
pub struct Targets<'a> {
    catalog: &'a LiveCatalog,
}

impl<'a> Targets<'a> {
    /// Targets for probes of `catalog`.
    pub fn new(catalog: &'a LiveCatalog) -> Self {
        Targets { catalog }
    }

    /// What to attach a probe's program to.
    pub fn attachment(&self, probe: &ProbeInfo) -> Result<Attachment, String> {
        match probe.provider.as_str() {
            providers::dtrace::PROVIDER => match probe.name.as_str() {
                "BEGIN" => Ok(Attachment::SelfProbe("lumen_dtrace_begin")),
                "END" => Ok(Attachment::SelfProbe("lumen_dtrace_end")),
                "ERROR" => Ok(Attachment::SelfProbe("lumen_dtrace_error")),
                other => Err(format!("unknown dtrace probe {other}")),
            },
            providers::profile::PROVIDER => {
                let t = providers::profile::parse_timer(&probe.name)
                    .ok_or_else(|| format!("{} is not a timer", probe.name))?;
                // As DTrace's profile_interval_min: faster timers could
                // swamp the machine with interrupts.
                if t.period_ns < MIN_TIMER_PERIOD_NS {
                    return Err(format!(
                        "{} fires more often than every {} µs, the shortest interval allowed",
                        probe.name,
                        MIN_TIMER_PERIOD_NS / 1000
                    ));
                }
                Ok(Attachment::Timer {
                    period_ns: t.period_ns,
                    all_cpus: t.kind == providers::profile::TimerKind::Profile,
                })
            }
            providers::fbt::PROVIDER => {
                let btf = crate::btf::KernelBtf::kernel()
                    .ok_or("fbt needs the kernel's BTF (/sys/kernel/btf/vmlinux)")?;
                let btf_id = btf
                    .function(&probe.function)
                    .ok_or_else(|| format!("fbt: no BTF for kernel function {}", probe.function))?;
                if let Some(why) = crate::sys::bpf::trampolines_refused(btf_id) {
                    return Err(format!("fbt: kernel refuses BPF trampolines ({why})"));
                }
                Ok(Attachment::Trampoline {
                    btf_id,
                    ret: probe.name == "return",
                })
            }
            p if providers::netinfo::is_net(p) => {
                let (subsystem, event) = providers::netinfo::tracepoint(p, &probe.name)
                    .ok_or_else(|| format!("{} has no tracepoint", probe.full_name()))?;
                Ok(Attachment::Tracepoint(EventName {
                    subsystem: subsystem.into(),
                    event: event.into(),
                }))
            }
            providers::proc::PROVIDER | providers::sched::PROVIDER | providers::io::PROVIDER => {
                let (subsystem, event) = stable_tracepoint(probe)?;
                Ok(Attachment::Tracepoint(EventName {
                    subsystem: subsystem.into(),
                    event: event.into(),
                }))
            }
            _ => {
                // Per-process probes carry their site; the rest are tracepoints.
                if let Some(site) = self.catalog.pid_site(probe.id) {
                    return Ok(Attachment::Pid(site));
                }
                if let Some(first) = self.usdt_layouts(probe).into_iter().next() {
                    return Ok(Attachment::Usdt(first));
                }
                match self.catalog.arg_source(probe.id) {
                    CatalogArgs::Tracepoint(ev) | CatalogArgs::Syscall(ev) => {
                        Ok(Attachment::Tracepoint(ev))
                    }
                    _ => Err(format!("no way to attach to {}", probe.full_name())),
                }
            }
        }
    }

    /// What to attach program `program` to: its probe's attachment, and
    /// for a USDT probe the sites of the layout it was generated for.
    pub fn program_attachment(
        &self,
        program: &d_lang::codegen::ProgramObj,
    ) -> Result<Attachment, String> {
        match self.attachment(&program.probe)? {
            Attachment::Usdt(_) => self
                .usdt_layouts(&program.probe)
                .into_iter()
                .nth(program.variant as usize)
                .map(Attachment::Usdt)
                .ok_or_else(|| format!("{}: no such site layout", program.probe.full_name())),
            other => Ok(other),
        }
    }

    /// The sites of USDT probe `probe` grouped by where they keep its
    /// arguments (the compiler may put them in other registers at each
    /// site), groups in the order their first site was noted: one program
    /// each, so every site of every probe is traced.
    pub fn usdt_layouts(&self, probe: &ProbeInfo) -> Vec<Vec<crate::providers::usdt::Site>> {
        let mut groups: Vec<Vec<crate::providers::usdt::Site>> = Vec::new();
        for site in self.catalog.usdt_sites(probe.id) {
            match groups
                .iter_mut()
                .find(|g| g[0].probe.args == site.probe.args)
            {
                Some(g) => g.push(site),
                None => groups.push(vec![site]),
            }
        }
        groups
    }

    fn format(&self, ev: &EventName) -> Result<EventFormat, String> {
        self.catalog.event_format(ev).ok_or_else(|| {
            format!(
                "cannot read the format of tracepoint {}:{}",
                ev.subsystem, ev.event
            )
        })
    }
}

/// The tracepoint a stable probe fires on.
fn stable_tracepoint(probe: &ProbeInfo) -> Result<(&'static str, &'static str), String> {
    let later = |what: &str| {
        Err(format!(
            "{} {what} (not implemented yet)",
            probe.full_name()
        ))
    };
    Ok(match (probe.provider.as_str(), probe.name.as_str()) {
        ("proc", "exec-success") => ("sched", "sched_process_exec"),
        ("proc", "exit" | "lwp-exit") => ("sched", "sched_process_exit"),
        ("proc", "exec") => ("syscalls", "sys_enter_execve"),
        ("proc", "exec-failure") => ("syscalls", "sys_exit_execve"),
        ("proc", "signal-send" | "signal-discard") => ("signal", "signal_generate"),
        ("proc", "signal-handle") => ("signal", "signal_deliver"),
        // In the parent's context; clone flags tell processes from threads.
        ("proc", "create" | "lwp-create") => ("task", "task_newtask"),
        ("proc", "start" | "lwp-start") => {
            return later("must fire in the new process's context, which needs its task")
        }
        ("sched", "off-cpu" | "sleep" | "preempt") => ("sched", "sched_switch"),
        ("sched", "on-cpu") => return later("must fire in the incoming thread's context"),
        ("sched", "wakeup") => ("sched", "sched_waking"),
        ("sched", "change-pri") => ("sched", "sched_pi_setprio"),
        ("io", "start") => ("block", "block_rq_issue"),
        ("io", "done") => ("block", "block_rq_complete"),
        _ => return later("has no mapping"),
    })
}

/// Target of a stable-provider probe: its filters and the arguments that
/// need no translator; translated ones are [`ArgSource::Unavailable`].
fn stable_target(probe: &ProbeInfo, fmt: &EventFormat) -> ProbeTarget {
    let field = |name: &str| fmt.fields.iter().find(|f| f.name == name);
    let int = |name: &str| match field(name) {
        Some(f) => ArgSource::CtxField {
            offset: f.offset as u16,
            size: f.size.clamp(1, 8) as u8,
            signed: f.signed,
        },
        None => ArgSource::Unavailable(format!("the tracepoint has no {name} field")),
    };
    let filter = |name: &str, cmp: FilterCmp, value: i64| {
        field(name).map(|f| Filter {
            offset: f.offset as u16,
            size: f.size.clamp(1, 8) as u8,
            signed: f.signed,
            cmp,
            value,
            via: None,
        })
    };
    let xlate = || {
        ArgSource::Unavailable("translated arguments need translators (not implemented yet)".into())
    };
    let src = |name: &str| field(name).map(field_source);
    let op = |name: &str, op: FieldOp| -> Option<ArgSource> {
        let f = field(name)?;
        Some(ArgSource::CtxFieldOp {
            offset: f.offset as u16,
            // rwbs is a char array: only its first byte matters.
            size: if op == FieldOp::RwbsFlags {
                1
            } else {
                f.size.clamp(1, 8) as u8
            },
            op,
        })
    };
    // A translated struct: each member from its source, by member offset.
    let view = |ty: &str, members: &[(&str, Option<ArgSource>)]| -> ArgSource {
        let table = d_lang::prelude::types();
        let Some(d_lang::types::Type::Sou(s)) = table.typedef(ty).map(|t| t.strip().clone()) else {
            return xlate();
        };
        ArgSource::Translated(
            members
                .iter()
                .filter_map(|(m, src)| {
                    let off = s.members.iter().find(|x| x.name == *m)?.offset as u32;
                    Some((off, src.clone()?))
                })
                .collect(),
        )
    };
    // A thread and its process from (pid, comm, prio) fields.
    let lwp = |pid: &str, comm: &str, prio: Option<&str>| {
        view(
            "lwpsinfo_t",
            &[
                ("pr_lwpid", src(pid)),
                ("pr_name", src(comm)),
                ("pr_pri", prio.and_then(src)),
            ],
        )
    };
    let ps =
        |pid: &str, comm: &str| view("psinfo_t", &[("pr_pid", src(pid)), ("pr_fname", src(comm))]);
    // bufinfo_t, devinfo_t and fileinfo_t of a block request.
    let io_args = || {
        let bytes = if field("bytes").is_some() {
            src("bytes")
        } else {
            op("nr_sector", FieldOp::Mul(512))
        };
        vec![
            view(
                "bufinfo_t",
                &[
                    ("b_flags", op("rwbs", FieldOp::RwbsFlags)),
                    ("b_bcount", bytes.clone()),
                    ("b_bufsize", bytes),
                    ("b_blkno", src("sector")),
                    ("b_lblkno", src("sector")),
                    ("b_error", src("error")),
                    ("b_edev", src("dev")),
                ],
            ),
            view(
                "devinfo_t",
                &[
                    ("dev_major", op("dev", FieldOp::Shr(20))),
                    ("dev_minor", op("dev", FieldOp::And(0xfffff))),
                ],
            ),
            view("fileinfo_t", &[]),
        ]
    };
    // TASK_REPORT_MAX: the prev_state sched_switch records for a preemption.
    const PREEMPTED: i64 = 0x100;
    let (args, filters): (Vec<ArgSource>, Vec<Option<Filter>>) =
        match (probe.provider.as_str(), probe.name.as_str()) {
            ("proc", "exit") => (
                vec![ArgSource::ExitReason],
                vec![filter("group_dead", FilterCmp::Ne, 0)],
            ),
            ("proc", "exec") => (
                vec![match field("filename") {
                    Some(f) => ArgSource::CtxUserString {
                        offset: f.offset as u16,
                    },
                    None => ArgSource::Unavailable("no filename field".into()),
                }],
                vec![],
            ),
            ("proc", "exec-failure") => (
                vec![ArgSource::Unavailable("errno needs -ret (not yet)".into())],
                vec![filter("ret", FilterCmp::Lt, 0)],
            ),
            // CLONE_THREAD: a new thread rather than a new process.
            ("proc", "create") => (
                vec![ps("pid", "comm")],
                vec![filter("clone_flags", FilterCmp::AllClear, 0x10000)],
            ),
            ("proc", "lwp-create") => (
                vec![
                    lwp("pid", "comm", None),
                    view("psinfo_t", &[("pr_fname", src("comm"))]),
                ],
                vec![filter("clone_flags", FilterCmp::AnySet, 0x10000)],
            ),
            ("proc", "signal-send") => (
                vec![lwp("pid", "comm", None), ps("pid", "comm"), int("sig")],
                vec![filter("result", FilterCmp::Ne, 1)],
            ),
            ("proc", "signal-discard") => (
                vec![lwp("pid", "comm", None), ps("pid", "comm"), int("sig")],
                vec![filter("result", FilterCmp::Eq, 1)],
            ),
            ("proc", "signal-handle") => (vec![int("sig"), xlate(), xlate()], vec![]),
            ("sched", "off-cpu") => (
                vec![
                    lwp("next_pid", "next_comm", Some("next_prio")),
                    ps("next_pid", "next_comm"),
                ],
                vec![],
            ),
            ("sched", "wakeup") => (
                vec![lwp("pid", "comm", Some("prio")), ps("pid", "comm")],
                vec![],
            ),
            ("sched", "sleep") => (
                vec![],
                vec![
                    filter("prev_state", FilterCmp::Ne, 0),
                    filter("prev_state", FilterCmp::Ne, PREEMPTED),
                ],
            ),
            ("sched", "preempt") => (vec![], vec![filter("prev_state", FilterCmp::Eq, PREEMPTED)]),
            ("sched", "change-pri") => (
                vec![
                    lwp("pid", "comm", Some("oldprio")),
                    ps("pid", "comm"),
                    int("newprio"),
                ],
                vec![],
            ),
            ("io", _) => (io_args(), vec![]),
            _ => (vec![], vec![]),
        };
    ProbeTarget {
        prog_type: ProgType::Tracepoint,
        args: args.clone(),
        typed_args: Some(args),
        filters: filters.into_iter().flatten().collect(),
        syscall_ret: None,
        function_entry: false,
        netns: None,
    }
}

/// Argument sources of a tracepoint's fields (after the common header).
fn field_sources<'f>(
    fields: impl Iterator<Item = &'f crate::tracepoint_format::Field>,
) -> Vec<ArgSource> {
    fields.map(field_source).collect()
}

/// A tracepoint field as an argument source: integers as they are, char
/// arrays and `__data_loc` strings as strings.
fn field_source(f: &crate::tracepoint_format::Field) -> ArgSource {
    match f.storage {
        FieldStorage::DataLoc | FieldStorage::RelLoc => ArgSource::CtxDataLoc {
            offset: f.offset as u16,
        },
        FieldStorage::Inline if f.c_type.contains('[') => ArgSource::CtxArray {
            offset: f.offset as u16,
            len: f.size as u16,
        },
        FieldStorage::Inline => ArgSource::CtxField {
            offset: f.offset as u16,
            // A load is 1, 2, 4 or 8 bytes; odd-sized fields read as 8.
            size: if matches!(f.size, 1 | 2 | 4 | 8) {
                f.size as u8
            } else {
                8
            },
            signed: f.signed,
        },
    }
}

/// The target of USDT sites that keep their arguments in the same places:
/// registers read from `pt_regs`, memory at a register plus a
/// displacement, constants.
fn usdt_target(sites: &[crate::providers::usdt::Site]) -> ProbeTarget {
    use crate::sdt_notes::ArgLoc;
    let args: Vec<ArgSource> = sites
        .first()
        .map(|s| s.probe.args.clone())
        .unwrap_or_default()
        .iter()
        .map(|a| match a.loc {
            ArgLoc::Reg(offset) => ArgSource::RegValue {
                offset,
                size: a.size,
                signed: a.signed,
            },
            ArgLoc::Mem { reg, disp } => ArgSource::UserMem {
                reg,
                disp,
                size: a.size,
                signed: a.signed,
            },
            ArgLoc::Imm(v) => ArgSource::Const(v as u64),
        })
        .collect();
    typed_target(ProgType::Uprobe, args, false)
}

/// A program whose `args[]` are its raw arguments as they are (uprobes,
/// trampolines): no filters, no syscall return.
fn typed_target(prog_type: ProgType, args: Vec<ArgSource>, function_entry: bool) -> ProbeTarget {
    ProbeTarget {
        prog_type,
        args: args.clone(),
        typed_args: Some(args),
        filters: Vec::new(),
        syscall_ret: None,
        function_entry,
        netns: None,
    }
}

impl TargetResolver for Targets<'_> {
    fn kernel_member(&self, strct: &str, member: &str) -> Option<(u32, u32)> {
        crate::btf::KernelBtf::kernel()?.member(strct, member)
    }

    fn targets(&self, probe: &ProbeInfo) -> Result<Vec<ProbeTarget>, String> {
        match self.attachment(probe)? {
            Attachment::Usdt(_) => Ok(self
                .usdt_layouts(probe)
                .iter()
                .map(|sites| usdt_target(sites))
                .collect()),
            _ => self.target(probe).map(|t| vec![t]),
        }
    }

    fn target(&self, probe: &ProbeInfo) -> Result<ProbeTarget, String> {
        match self.attachment(probe)? {
            Attachment::SelfProbe(sym) => Ok(ProbeTarget {
                prog_type: ProgType::RawTracepoint,
                // ERROR's arguments are what the consumer passes to the
                // test run: 0, EPID, action, pc, fault, address.
                args: if sym == "lumen_dtrace_error" {
                    (0..6)
                        .map(|i| ArgSource::CtxField {
                            offset: i * 8,
                            size: 8,
                            signed: false,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                typed_args: None,
                filters: Vec::new(),
                syscall_ret: None,
                function_entry: false,
                netns: None,
            }),
            Attachment::Pid(site) => {
                // x86-64 argument registers in pt_regs: rdi rsi rdx rcx r8 r9;
                // the return value in rax.
                let reg = |offset: u16| ArgSource::RegValue {
                    offset,
                    size: 8,
                    signed: true,
                };
                let args: Vec<ArgSource> = if site.ret {
                    vec![ArgSource::Const(0), reg(80)]
                } else {
                    [112, 104, 96, 88, 72, 64].into_iter().map(reg).collect()
                };
                Ok(typed_target(ProgType::Uprobe, args, !site.ret))
            }
            Attachment::Usdt(sites) => Ok(usdt_target(&sites)),
            Attachment::Trampoline { btf_id, ret } => {
                // ctx: the arguments as u64s, then the return value.
                let nargs = crate::btf::KernelBtf::kernel()
                    .and_then(|b| b.signature(btf_id))
                    .map_or(0, |(p, _)| p.len()) as u16;
                let slot = |i: u16| ArgSource::CtxField {
                    offset: 8 * i,
                    size: 8,
                    signed: false,
                };
                let args: Vec<ArgSource> = if ret {
                    vec![ArgSource::Const(0), slot(nargs)]
                } else {
                    (0..nargs).map(slot).collect()
                };
                Ok(typed_target(
                    ProgType::Trampoline { btf_id, ret },
                    args,
                    false,
                ))
            }
            Attachment::Timer { .. } => Ok(ProbeTarget {
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
            }),
            Attachment::Tracepoint(_) if providers::netinfo::is_net(&probe.provider) => {
                let btf = crate::btf::KernelBtf::kernel()
                    .ok_or("network probes need the kernel's BTF (/sys/kernel/btf/vmlinux)")?;
                let dev_size = btf
                    .struct_size("net_device")
                    .ok_or("the kernel's BTF has no struct net_device")?;
                providers::netinfo::net_target(btf, dev_size, &probe.provider, &probe.name)
            }
            Attachment::Tracepoint(ev) => {
                let fmt = self.format(&ev)?;
                if [
                    providers::proc::PROVIDER,
                    providers::sched::PROVIDER,
                    providers::io::PROVIDER,
                ]
                .contains(&probe.provider.as_str())
                {
                    return Ok(stable_target(probe, &fmt));
                }
                let fields = fmt.event_fields();
                if probe.provider == providers::syscall::PROVIDER {
                    let args: Vec<ArgSource> =
                        field_sources(fields.skip_while(|f| f.name != "__syscall_nr").skip(1));
                    if probe.name == "return" {
                        // DTrace: arg0 and arg1 both hold the return value.
                        let ret = args.first().cloned().unwrap_or(ArgSource::Const(0));
                        return Ok(ProbeTarget {
                            prog_type: ProgType::Tracepoint,
                            args: vec![ret.clone(), ret.clone()],
                            typed_args: Some(vec![ret.clone()]),
                            filters: Vec::new(),
                            syscall_ret: Some(ret),
                            function_entry: false,
                            netns: None,
                        });
                    }
                    // Syscall arguments are 8-byte values; treat them as such for argN.
                    let raw = args
                        .iter()
                        .map(|a| match a {
                            ArgSource::CtxField { offset, .. } => ArgSource::CtxField {
                                offset: *offset,
                                size: 8,
                                signed: false,
                            },
                            other => other.clone(),
                        })
                        .collect();
                    return Ok(ProbeTarget {
                        prog_type: ProgType::Tracepoint,
                        args: raw,
                        typed_args: Some(args),
                        filters: Vec::new(),
                        syscall_ret: None,
                        function_entry: false,
                        netns: None,
                    });
                }
                let args = field_sources(fields);
                Ok(ProbeTarget {
                    prog_type: ProgType::Tracepoint,
                    args: args.clone(),
                    typed_args: Some(args),
                    filters: Vec::new(),
                    syscall_ret: None,
                    function_entry: false,
                    netns: None,
                })
            }
        }
    }
}
