//! Tracepoint fields as argument sources: what the tracepoint-based
//! providers share when they say how a program reads `argN` and `args[]`.
//!
//! A plain tracepoint probe (`sdt`, `kvm`) reads its format's fields in
//! order ([`tracepoint_target`]). A stable probe (`proc`, `sched`, `io`)
//! builds DTrace's translated structures (`psinfo_t`, `bufinfo_t`…) from
//! named fields and keeps only the firings that are its own through field
//! filters ([`Fields`]).

use crate::tracepoint_format::{EventFormat, Field, FieldStorage};
use d_lang::codegen::{ArgSource, FieldOp, Filter, FilterCmp, ProbeTarget, ProgType};

/// A tracepoint field as an argument source: integers as they are, char
/// arrays and `__data_loc` strings as strings.
pub fn field_source(f: &Field) -> ArgSource {
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

/// Argument sources of tracepoint fields.
pub fn field_sources<'f>(fields: impl Iterator<Item = &'f Field>) -> Vec<ArgSource> {
    fields.map(field_source).collect()
}

/// A program whose `argN` and `args[]` are the same sources, with no
/// filters and no syscall return.
pub fn typed_target(
    prog_type: ProgType,
    args: Vec<ArgSource>,
    function_entry: bool,
) -> ProbeTarget {
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

/// A plain tracepoint probe: its arguments are the format's fields after
/// the common header, in order.
pub fn tracepoint_target(fmt: &EventFormat) -> ProbeTarget {
    typed_target(
        ProgType::Tracepoint,
        field_sources(fmt.event_fields()),
        false,
    )
}

/// The named fields of one tracepoint, for a stable probe's translated
/// arguments and filters. A field the kernel does not have gives an
/// unavailable argument or no filter, never an error: the probe still
/// attaches, and a script that reads the missing member is told why.
pub struct Fields<'a> {
    fmt: &'a EventFormat,
}

impl<'a> Fields<'a> {
    /// The fields of `fmt`.
    pub fn new(fmt: &'a EventFormat) -> Self {
        Fields { fmt }
    }

    fn field(&self, name: &str) -> Option<&'a Field> {
        self.fmt.fields.iter().find(|f| f.name == name)
    }

    /// The offset of field `name` in the record.
    pub fn offset(&self, name: &str) -> Option<u16> {
        self.field(name).map(|f| f.offset as u16)
    }

    /// Whether the tracepoint has field `name`.
    pub fn has(&self, name: &str) -> bool {
        self.field(name).is_some()
    }

    /// Integer field `name`, as an argument.
    pub fn int(&self, name: &str) -> ArgSource {
        match self.field(name) {
            Some(f) => ArgSource::CtxField {
                offset: f.offset as u16,
                size: f.size.clamp(1, 8) as u8,
                signed: f.signed,
            },
            None => ArgSource::Unavailable(format!("the tracepoint has no {name} field")),
        }
    }

    /// Field `name` as it is (integer or string), for a translated member.
    pub fn src(&self, name: &str) -> Option<ArgSource> {
        self.field(name).map(field_source)
    }

    /// Field `name` with `op` applied.
    pub fn op(&self, name: &str, op: FieldOp) -> Option<ArgSource> {
        let f = self.field(name)?;
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
    }

    /// Keep the firings where field `name` compares to `value` by `cmp`.
    pub fn filter(&self, name: &str, cmp: FilterCmp, value: i64) -> Option<Filter> {
        self.field(name).map(|f| Filter {
            offset: f.offset as u16,
            size: f.size.clamp(1, 8) as u8,
            signed: f.signed,
            cmp,
            value,
            via: None,
        })
    }

    /// A thread and its process (`lwpsinfo_t *`) from pid, comm and
    /// priority fields.
    pub fn lwp(&self, pid: &str, comm: &str, prio: Option<&str>) -> ArgSource {
        view(
            "lwpsinfo_t",
            &[
                ("pr_lwpid", self.src(pid)),
                ("pr_name", self.src(comm)),
                ("pr_pri", prio.and_then(|p| self.src(p))),
            ],
        )
    }

    /// A process (`psinfo_t *`) from pid and comm fields.
    pub fn ps(&self, pid: &str, comm: &str) -> ArgSource {
        view(
            "psinfo_t",
            &[("pr_pid", self.src(pid)), ("pr_fname", self.src(comm))],
        )
    }
}

/// An argument that needs a translator Lumen does not have yet.
pub fn untranslated() -> ArgSource {
    ArgSource::Unavailable("translated arguments need translators (not implemented yet)".into())
}

/// A translated structure of D type `ty` (a prelude typedef): each member
/// from its source, placed at the member's offset; members without a
/// source read as zero.
pub fn view(ty: &str, members: &[(&str, Option<ArgSource>)]) -> ArgSource {
    let table = d_lang::prelude::types();
    let Some(d_lang::types::Type::Sou(s)) = table.typedef(ty).map(|t| t.strip().clone()) else {
        return untranslated();
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
}

/// A stable probe's target: a tracepoint program with translated
/// arguments and the filters that keep its own firings.
pub fn stable_target(args: Vec<ArgSource>, filters: Vec<Option<Filter>>) -> ProbeTarget {
    ProbeTarget {
        filters: filters.into_iter().flatten().collect(),
        ..typed_target(ProgType::Tracepoint, args, false)
    }
}
