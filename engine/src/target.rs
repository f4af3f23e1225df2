//! How each probe runs in the kernel: the program type, where `argN` and
//! `args[]` are read from (for code generation), and what to attach to.
//!
//! | provider | program | attach | `argN` |
//! |---|---|---|---|
//! | `dtrace` | uprobe | Lumen's own `lumen_dtrace_begin`/`end`/`error` | none |
//! | `profile` | perf event | cpu-clock, every CPU (`profile-N`) or CPU 0 (`tick-N`) | arg0 kernel PC, arg1 user PC |
//! | `syscall` | tracepoint | `syscalls:sys_enter_F` / `sys_exit_F` | entry: the call's arguments; return: arg0 = arg1 = return value |
//! | `sdt` | tracepoint | `SUBSYS:EVENT` | the format's fields in order |
//! | `proc`, `sched`, `io` | — | need translators (not yet) | — |

use crate::catalog::format::{EventFormat, FieldStorage};
use crate::catalog::LiveCatalog;
use crate::providers::{self, ArgSource as CatalogArgs};
use crate::tracefs::EventName;
use d_lang::codegen::{ArgSource, ProbeTarget, ProgType, TargetResolver};
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
    /// A uprobe on one of the consumer's own functions.
    SelfProbe(&'static str),
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
                Ok(Attachment::Timer {
                    period_ns: t.period_ns,
                    all_cpus: t.kind == providers::profile::TimerKind::Profile,
                })
            }
            _ => match self.catalog.arg_source(probe.id) {
                CatalogArgs::Tracepoint(ev) | CatalogArgs::Syscall(ev)
                    if probe.provider == providers::syscall::PROVIDER || probe.provider == providers::sdt::PROVIDER =>
                {
                    Ok(Attachment::Tracepoint(ev))
                }
                _ => Err(format!(
                    "the {} provider needs translators, which are not implemented yet",
                    probe.provider
                )),
            },
        }
    }

    fn format(&self, ev: &EventName) -> Result<EventFormat, String> {
        self.catalog
            .event_format(ev)
            .ok_or_else(|| format!("cannot read the format of tracepoint {}:{}", ev.subsystem, ev.event))
    }
}

/// Argument sources of a tracepoint's fields (after the common header).
fn field_sources<'f>(fields: impl Iterator<Item = &'f crate::catalog::format::Field>) -> Vec<ArgSource> {
    fields
        .map(|f| match f.storage {
            FieldStorage::DataLoc | FieldStorage::RelLoc => ArgSource::CtxDataLoc { offset: f.offset as u16 },
            FieldStorage::Inline if f.c_type.contains('[') => {
                ArgSource::CtxArray { offset: f.offset as u16, len: f.size as u16 }
            }
            FieldStorage::Inline => ArgSource::CtxField {
                offset: f.offset as u16,
                size: if matches!(f.size, 1 | 2 | 4 | 8) { f.size as u8 } else { 8 },
                signed: f.signed,
            },
        })
        .collect()
}

impl TargetResolver for Targets<'_> {
    fn target(&self, probe: &ProbeInfo) -> Result<ProbeTarget, String> {
        match self.attachment(probe)? {
            Attachment::SelfProbe(_) => {
                Ok(ProbeTarget { prog_type: ProgType::Uprobe, args: Vec::new(), typed_args: None })
            }
            Attachment::Timer { .. } => Ok(ProbeTarget {
                prog_type: ProgType::PerfEvent,
                args: vec![ArgSource::PerfPc { user: false }, ArgSource::PerfPc { user: true }],
                typed_args: None,
            }),
            Attachment::Tracepoint(ev) => {
                let fmt = self.format(&ev)?;
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
                            typed_args: Some(vec![ret]),
                        });
                    }
                    // Syscall arguments are 8-byte values; treat them as such for argN.
                    let raw = args
                        .iter()
                        .map(|a| match a {
                            ArgSource::CtxField { offset, .. } => {
                                ArgSource::CtxField { offset: *offset, size: 8, signed: false }
                            }
                            other => other.clone(),
                        })
                        .collect();
                    return Ok(ProbeTarget { prog_type: ProgType::Tracepoint, args: raw, typed_args: Some(args) });
                }
                let args = field_sources(fields);
                Ok(ProbeTarget { prog_type: ProgType::Tracepoint, args: args.clone(), typed_args: Some(args) })
            }
        }
    }
}
