//! Storage layout: which map holds what, and where in the per-CPU scratch
//! area clause-locals, string temporaries, records and keys are built.

use super::object::{AggObj, Field, FieldKind, MapKind, MapRole, MapSpec};
use super::CodegenOptions;
use crate::diag::{Diagnostic, ErrTag};
use crate::ir::{AggFunc, Program, Scope, VarId};
use crate::types::Type;
use std::collections::HashMap;

/// Largest per-CPU scratch value the kernel allocates (PCPU_MIN_UNIT_SIZE).
pub const SCRATCH_SIZE: u32 = 32 * 1024;
/// Number of string temporaries per clause.
pub const STRING_TEMPS: u32 = 16;
/// Bytes reserved for one clause's record.
pub const RECORD_MAX: u32 = 8 * 1024;
/// Bytes reserved for building one key.
pub const KEY_MAX: u32 = 2 * 1024;
/// Bytes reserved for building one value.
pub const VALUE_MAX: u32 = 2 * 1024;
/// Record header: EPID (u32), CPU (u32), action mask (u64), speculation (u64).
pub const HEADER_SIZE: u32 = 24;
/// Offset of the header's speculation word: 0 for ordinary records, else
/// `1 << 63 | id` for records that `speculate(id)` diverted.
pub const HEADER_SPEC: u32 = 16;
/// Most frames a stack value may hold: the kernel's default
/// `perf_event_max_stack`, beyond which `bpf_get_stack` fails.
pub const MAX_FRAMES: u32 = 127;

/// The sizes of variable-size values: `strsize`, `stackframes`,
/// `ustackframes` (each field and key of such a type takes this much).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSizes {
    /// Bytes of a string.
    pub strsize: u32,
    /// Frames of a `stack()` value.
    pub stackframes: u32,
    /// Frames of a `ustack()` value.
    pub ustackframes: u32,
}

impl ValueSizes {
    /// Bytes of the scratch buffer a `stack()` is captured into.
    pub fn stack_buf(&self) -> u32 {
        8 * self.stackframes
    }

    /// Bytes of the `ustack()` buffer: the process ID, then the frames.
    pub fn ustack_buf(&self) -> u32 {
        8 * (self.ustackframes + 1)
    }
}
/// Bytes of an error record: header (EPID 0, CPU), then the faulting
/// EPID, action number, [`crate::codegen::object::Fault`] code, address and
/// instruction index, one u64 each.
pub const ERROR_RECORD_SIZE: u32 = 48;

/// Where a variable lives.
#[derive(Debug, Clone)]
pub enum VarStorage {
    /// In the globals map at an offset.
    Global {
        /// Byte offset in the globals value.
        offset: u32,
    },
    /// In the scratch area (clause-locals).
    Local {
        /// Byte offset in the scratch value.
        offset: u32,
    },
    /// In its own hash map (associative arrays, thread-locals).
    Dynamic {
        /// Map index.
        map: usize,
        /// Key fields (thread-locals start with the thread id).
        keys: Vec<Field>,
        /// Key size.
        key_size: u32,
        /// Value size.
        value_size: u32,
        /// Keyed by thread id first.
        thread: bool,
    },
}

/// The program's storage plan.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Maps so far (lowering adds nothing; the strings map is filled at the end).
    pub maps: Vec<MapSpec>,
    /// Ring buffer map index.
    pub ringbuf: usize,
    /// Scratch map index.
    pub scratch: usize,
    /// Globals map index.
    pub globals: usize,
    /// Strings map index.
    pub strings: usize,
    /// Counters map index.
    pub counters: usize,
    /// Speculation slots map: `nspec + 1` u64 words, word `i` non-zero while
    /// speculation `i` is in use (word 0 unused).
    pub specs: usize,
    /// `nspec`.
    pub nspec: u32,
    /// Control map index: its u64 is the consumer's stop flag, non-zero once
    /// END has begun; from then on no probe but END and ERROR acts.
    pub control: usize,
    /// Storage of each variable.
    pub vars: HashMap<VarId, VarStorage>,
    /// Aggregations by id.
    pub aggs: Vec<AggObj>,
    /// Scratch offsets.
    pub locals_off: u32,
    /// First string temporary.
    pub temps_off: u32,
    /// Record buffer.
    pub record_off: u32,
    /// Key buffer.
    pub key_off: u32,
    /// Value buffer.
    pub value_off: u32,
    /// `strsize`.
    pub strsize: u32,
    /// `strsize`, `stackframes`, `ustackframes`.
    pub sizes: ValueSizes,
    /// Largest aggregation value (the strings map carries this many zero bytes).
    pub max_agg_value: u32,
    /// The error record being built when a fault is raised.
    pub error_off: u32,
    /// The `stack()` buffer.
    pub stack_off: u32,
    /// The `ustack()` buffer.
    pub ustack_off: u32,
    /// How much of the `alloca()` area is handed out in this firing (a
    /// u64, zeroed by each program's prologue).
    pub alloca_top_off: u32,
    /// The `alloca()`/`copyin()` area: `scratchsize` bytes.
    pub alloca_off: u32,
    /// Its size (`scratchsize`, a multiple of 8).
    pub alloca_size: u32,
    /// The zones' table of network namespaces, for `zonename` and `zoneid`
    /// in probes of packets and sockets ([`Layout::add_netns_zones`]).
    pub netns_zones: Option<usize>,
    /// Emit only what rbpf runs: no atomic instructions.
    pub portable: bool,
}

fn round8(n: u64) -> u64 {
    n.div_ceil(8) * 8
}

/// Bytes a value of type `ty` takes in storage (strings: `strsize`).
pub fn storage_size(ty: &Type, strsize: u32) -> u64 {
    match ty.strip() {
        Type::String => strsize as u64,
        Type::Array(e, _) if e.int_size() == 1 => strsize as u64,
        t if t.is_integer() || t.is_pointer() => 8,
        t => t.size().max(1),
    }
}

/// How a key of type `ty` is stored.
pub fn key_kind(ty: &Type, sizes: &ValueSizes) -> FieldKind {
    let strsize = sizes.strsize;
    use crate::codegen::object::AddrKind;
    use crate::types::DynType;
    if let Type::Dyn(d) = ty.strip() {
        let addr = |kind, user| FieldKind::Addr { kind, user };
        match d {
            DynType::Stack => {
                return FieldKind::Stack {
                    frames: sizes.stackframes,
                    user: false,
                }
            }
            DynType::UStack => {
                return FieldKind::Stack {
                    frames: sizes.ustackframes,
                    user: true,
                }
            }
            DynType::Symaddr => return addr(AddrKind::Function, false),
            DynType::Modaddr => return addr(AddrKind::Module, false),
            DynType::Usymaddr => return addr(AddrKind::Function, true),
            DynType::Umodaddr => return addr(AddrKind::Module, true),
            DynType::Uaddr => return addr(AddrKind::Offset, true),
        }
    }
    if ty.is_string() || ty.is_char_string() && !ty.is_pointer() {
        FieldKind::Str { size: strsize }
    } else if ty.is_integer() || ty.is_pointer() || ty.is_scalar() {
        FieldKind::Int {
            size: ty.size().clamp(1, 8) as u8,
            signed: ty.is_signed(),
        }
    } else {
        FieldKind::Bytes {
            size: ty.size() as u32,
        }
    }
}

fn key_fields(types: &[Type], sizes: &ValueSizes, thread: bool) -> (Vec<Field>, u32) {
    let mut fields = Vec::new();
    let mut off = if thread { 8 } else { 0 };
    for t in types {
        let kind = key_kind(t, sizes);
        fields.push(Field { offset: off, kind });
        off += kind.stored_size();
    }
    (fields, off.max(8))
}

impl AggFunc {
    /// How many buckets the value has (0 for the scalar functions); the
    /// layouts are in [`super::buckets`]. Defined here, beside the value
    /// sizes it decides, so that `ir` does not depend on code generation.
    pub fn bucket_count(&self) -> usize {
        use super::buckets as b;
        match *self {
            AggFunc::Quantize => b::QUANTIZE_BUCKETS,
            AggFunc::Lquantize { base, limit, step } if limit > base && step > 0 => {
                b::lquantize_buckets(base, limit, step)
            }
            AggFunc::Lquantize { .. } => 2,
            AggFunc::Llquantize {
                factor,
                low,
                high,
                nsteps,
            } => b::llquantize_buckets(factor, low, high, nsteps),
            _ => 0,
        }
    }
}

/// Value size of an aggregation's map entries.
pub fn agg_value_size(func: &AggFunc) -> u32 {
    match func {
        AggFunc::Count | AggFunc::Sum => 8,
        AggFunc::Min | AggFunc::Max | AggFunc::Avg => 16,
        AggFunc::Stddev => 32,
        AggFunc::Quantize | AggFunc::Lquantize { .. } | AggFunc::Llquantize { .. } => {
            (func.bucket_count() * 8) as u32
        }
    }
}

impl Layout {
    /// Plan storage for `prog`.
    pub fn new(prog: &Program, opts: &CodegenOptions) -> Result<Layout, Diagnostic> {
        let strsize = opts.strsize;
        let sizes = ValueSizes {
            strsize,
            stackframes: opts.stackframes.clamp(1, MAX_FRAMES),
            ustackframes: opts.ustackframes.clamp(1, MAX_FRAMES),
        };
        let mut maps = Vec::new();
        let mut add = |m: MapSpec| {
            maps.push(m);
            maps.len() - 1
        };
        let bufsize = opts.bufsize.max(4096).next_power_of_two();
        let ringbuf = add(MapSpec {
            name: "records".into(),
            kind: MapKind::Ringbuf,
            key_size: 0,
            value_size: 0,
            max_entries: bufsize,
            role: MapRole::Records,
            initial: None,
            lazy: false,
            pinned: None,
        });
        // Scratch: clause-locals, then temporaries, record, key, value.
        let mut vars = HashMap::new();
        let mut local_off = 0u32;
        // 0: wall-clock offset; then variables.
        let mut global_off = 8u32;
        let mut dynamic = Vec::new();
        for (i, v) in prog.variables.iter().enumerate() {
            let id = VarId(i as u32);
            let size = round8(storage_size(&v.ty, strsize)) as u32;
            match (v.scope, &v.keys) {
                (Scope::Global, None) => {
                    vars.insert(id, VarStorage::Global { offset: global_off });
                    global_off += size;
                }
                (Scope::Clause, _) => {
                    vars.insert(id, VarStorage::Local { offset: local_off });
                    local_off += size;
                }
                (scope, keys) => dynamic.push((
                    id,
                    scope == Scope::Thread,
                    keys.clone().unwrap_or_default(),
                    size,
                )),
            }
        }
        let locals_size = local_off;
        let temps_off = round8(locals_size as u64) as u32;
        let record_off = temps_off + STRING_TEMPS * strsize;
        let key_off = record_off + RECORD_MAX;
        let value_off = key_off + KEY_MAX;
        let error_off = value_off + VALUE_MAX;
        let stack_off = error_off + ERROR_RECORD_SIZE;
        let ustack_off = stack_off + sizes.stack_buf();
        let alloca_top_off = ustack_off + sizes.ustack_buf();
        let alloca_off = alloca_top_off + 8;
        let alloca_size = opts.scratchsize.max(8).div_ceil(8) * 8;
        let scratch_size = alloca_off + alloca_size;
        if scratch_size > SCRATCH_SIZE {
            return Err(Diagnostic::new(
                ErrTag::D_UNSUPPORTED,
                None,
                format!("clause-local variables and string temporaries need {scratch_size} bytes of scratch space; at most {SCRATCH_SIZE} are available (lower strsize)"),
            ));
        }
        let scratch = add(MapSpec {
            name: "scratch".into(),
            kind: MapKind::PercpuArray,
            key_size: 4,
            value_size: scratch_size,
            max_entries: 1,
            role: MapRole::Scratch,
            initial: None,
            lazy: false,
            pinned: None,
        });
        let globals = add(MapSpec {
            name: "globals".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: global_off,
            max_entries: 1,
            role: MapRole::Globals,
            initial: None,
            lazy: false,
            pinned: None,
        });
        let strings = add(MapSpec {
            name: "strings".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            role: MapRole::Strings,
            initial: None,
            lazy: false,
            pinned: None,
        });
        let counters = add(MapSpec {
            name: "counters".into(),
            kind: MapKind::PercpuArray,
            key_size: 4,
            value_size: 64,
            max_entries: 1,
            role: MapRole::Counters,
            initial: None,
            lazy: false,
            pinned: None,
        });
        let control = add(MapSpec {
            name: "control".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            role: MapRole::Control,
            initial: None,
            lazy: false,
            pinned: None,
        });
        let nspec = opts.nspec.clamp(1, 64);
        let specs = add(MapSpec {
            name: "specs".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: (nspec + 1) * 8,
            max_entries: 1,
            role: MapRole::Speculations,
            initial: None,
            lazy: false,
            pinned: None,
        });
        for (id, thread, key_types, value_size) in dynamic {
            let (keys, key_size) = key_fields(&key_types, &sizes, thread);
            if key_size > KEY_MAX || value_size > VALUE_MAX {
                return Err(Diagnostic::new(
                    ErrTag::D_UNSUPPORTED,
                    None,
                    format!(
                        "variable {} has a key or value too large to store",
                        prog.variables[id.0 as usize].name
                    ),
                ));
            }
            let entries =
                (opts.dynvarsize / (key_size + value_size + 64) as u64).clamp(64, 1 << 20) as u32;
            let v = &prog.variables[id.0 as usize];
            let map = add(MapSpec {
                name: truncate_name(&format!(
                    "{}{}",
                    if thread { "self_" } else { "var_" },
                    v.name
                )),
                kind: MapKind::Hash,
                key_size,
                value_size,
                max_entries: entries,
                role: MapRole::Variable(id),
                initial: None,
                lazy: false,
                pinned: None,
            });
            vars.insert(
                id,
                VarStorage::Dynamic {
                    map,
                    keys,
                    key_size,
                    value_size,
                    thread,
                },
            );
        }
        let mut aggs = Vec::new();
        let mut max_agg_value = 8;
        for (i, a) in prog.aggregations.iter().enumerate() {
            let (keys, key_size) = key_fields(&a.keys, &sizes, false);
            let value_size = agg_value_size(&a.func);
            max_agg_value = max_agg_value.max(value_size);
            if key_size > KEY_MAX || value_size > VALUE_MAX {
                return Err(Diagnostic::new(
                    ErrTag::D_UNSUPPORTED,
                    None,
                    format!("aggregation @{} has a key or value too large", a.name),
                ));
            }
            // A keyless aggregation has one entry: a per-CPU array slot,
            // found without hashing (the verifier inlines the lookup).
            let array = a.keys.is_empty();
            let (kind, key_size, value_size, entries) = if array {
                (MapKind::PercpuArray, 4, value_size + 8, 1)
            } else {
                let n =
                    (opts.aggsize / (key_size + value_size + 64) as u64).clamp(64, 1 << 18) as u32;
                (MapKind::PercpuHash, key_size, value_size, n)
            };
            let map = add(MapSpec {
                name: truncate_name(&format!("agg_{}", a.name)),
                kind,
                key_size,
                value_size,
                max_entries: entries,
                role: MapRole::Aggregation(crate::ir::AggId(i as u32)),
                initial: None,
                lazy: !array,
                pinned: None,
            });
            aggs.push(AggObj {
                id: crate::ir::AggId(i as u32),
                name: a.name.clone(),
                func: a.func,
                map,
                keys,
                key_names: a.key_names.clone(),
                key_size,
                value_size,
                array,
            });
        }
        Ok(Layout {
            maps,
            ringbuf,
            scratch,
            globals,
            strings,
            counters,
            control,
            specs,
            nspec,
            vars,
            aggs,
            locals_off: 0,
            temps_off,
            record_off,
            key_off,
            value_off,
            error_off,
            stack_off,
            ustack_off,
            alloca_top_off,
            alloca_off,
            alloca_size,
            strsize,
            sizes,
            max_agg_value,
            netns_zones: None,
            portable: opts.portable,
        })
    }

    /// Add the zones' pinned table of network namespaces
    /// (`probes::netns`): a program that names the zone of a packet's or
    /// socket's namespace reads it.
    pub fn add_netns_zones(&mut self) {
        use probes::netns;
        self.maps.push(MapSpec {
            name: "netns_zones".into(),
            kind: MapKind::LruHash,
            key_size: 8,
            value_size: (8 + netns::NAME_LEN) as u32,
            max_entries: netns::ENTRIES,
            role: MapRole::NetnsZones,
            initial: None,
            lazy: false,
            pinned: Some(netns::PIN.into()),
        });
        self.netns_zones = Some(self.maps.len() - 1);
    }
}

fn truncate_name(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(15)
        .collect()
}
