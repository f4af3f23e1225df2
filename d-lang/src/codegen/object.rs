//! What code generation hands the engine: maps to create, programs to load
//! and attach, and descriptions of every record and aggregation.
//!
//! Record layout (ring buffer): a 24-byte header — EPID (u32), CPU (u32),
//! a u64 mask of the clause's data-recording actions that ran, a u64
//! speculation word (0, or `1 << 63 | id` after `speculate(id)`) — then
//! each action's fields at the offsets given here.
//!
//! Aggregation map values (per CPU, merged by the consumer):
//! count, sum: `[i64]`; min, max: `[u64 set, i64 value]`; avg:
//! `[u64 count, i64 total]`; stddev: `[u64 count, i64 total, u64 sq_lo,
//! u64 sq_hi]`; quantize: 127 `i64` buckets, bucket 63 holding 0, bucket
//! `64 + k` values in `[2^k, 2^(k+1))`, bucket `62 - k` values in
//! `(-2^(k+1), -2^k]`; lquantize: `levels + 2` buckets, 0 below `base`,
//! `1 + (v - base) / step` inside, the last at or above `limit`.
//! Keys: each integer key 8 bytes (sign- or zero-extended), each string
//! key `strsize` bytes, zero-padded; no keys: one zero u64.

use super::insn::Insn;
use super::target::ProgType;
use crate::catalog::ProbeInfo;
use crate::ir::{AggFunc, AggId, VarId};
use crate::printf::Format;

/// Kernel map types codegen uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    /// `BPF_MAP_TYPE_HASH`
    Hash,
    /// `BPF_MAP_TYPE_ARRAY`
    Array,
    /// `BPF_MAP_TYPE_PERCPU_HASH`
    PercpuHash,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`
    PercpuArray,
    /// `BPF_MAP_TYPE_RINGBUF`
    Ringbuf,
    /// `BPF_MAP_TYPE_LRU_HASH` (only the pinned netns-to-zone table).
    LruHash,
}

/// What a map holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapRole {
    /// Trace records for the consumer.
    Records,
    /// Per-CPU scratch: clause-locals, string temporaries, record and key building.
    Scratch,
    /// Global scalars (offset 0: wall-clock offset written by the consumer).
    Globals,
    /// The consumer's stop flag (a u64, non-zero once END has begun).
    Control,
    /// Speculation slots (see `Layout::specs`).
    Speculations,
    /// String constants and a zero block; read-only once loaded.
    Strings,
    /// Per-CPU error and drop counters, indexed by [`Counter`].
    Counters,
    /// An associative array or thread-local variable.
    Variable(VarId),
    /// An aggregation.
    Aggregation(AggId),
    /// The zones' table of network namespaces (`probes::netns`): opened
    /// where it is pinned, never created empty for one program.
    NetnsZones,
}

/// Indices of the u64 counters in the [`MapRole::Counters`] map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Records lost because the ring buffer was full.
    RecordDrops = 0,
    /// Dynamic variable (associative array, thread-local) stores that failed.
    DynvarDrops = 1,
    /// Aggregation updates that failed.
    AggDrops = 2,
    /// speculation() calls that found every buffer busy.
    SpecBusy = 3,
}

/// A map to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    /// Name (shown by `bpftool map`), at most 15 bytes.
    pub name: String,
    /// Type.
    pub kind: MapKind,
    /// Key size in bytes (0 for the ring buffer).
    pub key_size: u32,
    /// Value size in bytes (0 for the ring buffer).
    pub value_size: u32,
    /// Entries (bytes for the ring buffer).
    pub max_entries: u32,
    /// Role.
    pub role: MapRole,
    /// Contents of entry 0 to write before loading (strings map).
    pub initial: Option<Vec<u8>>,
    /// Allocate hash entries on first use (`BPF_F_NO_PREALLOC`) rather than
    /// at creation: creating a preallocated per-CPU hash of 50,000 entries
    /// costs ~17 ms, and aggregations insert each key only once.
    pub lazy: bool,
    /// Open the map pinned at this path (creating and pinning it if
    /// there is none yet) instead of making one for this program.
    pub pinned: Option<String>,
}

/// Where a `ld_imm64` refers to a map: the engine writes the map's fd into
/// the instruction's immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapReloc {
    /// Index of the first slot of the `ld_imm64`.
    pub insn: usize,
    /// Index into [`Object::maps`].
    pub map: usize,
}

/// One program: all clauses that enable one probe, in program order.
#[derive(Debug, Clone)]
pub struct ProgramObj {
    /// The probe.
    pub probe: ProbeInfo,
    /// Program type.
    pub prog_type: ProgType,
    /// Instructions (map immediates hold map indices until relocated).
    pub insns: Vec<Insn>,
    /// Map references to patch.
    pub relocs: Vec<MapReloc>,
    /// EPIDs of the clauses compiled in, in order.
    pub epids: Vec<u32>,
    /// Which of the probe's targets ([`crate::codegen::TargetResolver::targets`])
    /// this program is for: 0 but for probes whose sites differ.
    pub variant: u32,
}

/// The kind of data in a record field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An integer stored in 8 bytes, printed with its D size and sign.
    Int {
        /// D size in bytes.
        size: u8,
        /// Signed.
        signed: bool,
    },
    /// A NUL-terminated string in `size` bytes.
    Str {
        /// Bytes reserved.
        size: u32,
    },
    /// Raw memory.
    Bytes {
        /// Bytes reserved.
        size: u32,
    },
    /// A stack: `frames` program counters, innermost first, ending at the
    /// first 0; a user stack is preceded by its process ID (one u64).
    Stack {
        /// Frames reserved.
        frames: u32,
        /// `ustack()` rather than `stack()`.
        user: bool,
    },
    /// A code address printed symbolically; a user address is followed by
    /// its process ID (two u64s).
    Addr {
        /// How it prints.
        kind: AddrKind,
        /// A user-space address.
        user: bool,
    },
}

/// How a symbolic address prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrKind {
    /// ``module`function`` (`sym`, `func`, `usym`, `ufunc`).
    Function,
    /// `module` (`mod`, `umod`).
    Module,
    /// ``module`function+0xoffset`` (`uaddr`).
    Offset,
}

impl FieldKind {
    /// Bytes the field occupies (8-aligned).
    pub fn stored_size(&self) -> u32 {
        match self {
            FieldKind::Int { .. } => 8,
            FieldKind::Str { size } | FieldKind::Bytes { size } => size.div_ceil(8) * 8,
            FieldKind::Stack { frames, user } => 8 * (frames + *user as u32),
            FieldKind::Addr { user, .. } => 8 * (1 + *user as u32),
        }
    }
}

/// A field of a record or key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Byte offset.
    pub offset: u32,
    /// Data kind.
    pub kind: FieldKind,
}

/// What the consumer does with an action's record.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordKind {
    /// `trace(x)`: one field.
    Trace,
    /// `print(x)`.
    Print,
    /// `printf(fmt, …)`: one field per argument.
    Printf(Format),
    /// `printa([fmt,] @a…)`: no fields.
    Printa(Option<Format>, Vec<AggId>),
    /// `exit(n)`: one field.
    Exit,
    /// `clear(@a)`.
    Clear(AggId),
    /// `trunc(@a[, n])`: an optional field.
    Trunc(AggId),
    /// `normalize(@a, n)`: one field.
    Normalize(AggId),
    /// `denormalize(@a)`.
    Denormalize(AggId),
    /// `setopt(name[, value])`.
    Setopt(String, Option<String>),
    /// `tracemem(addr, size)`: one bytes field.
    Tracemem,
    /// `system(fmt, …)`: fields as printf.
    System(Format),
    /// `freopen(fmt, …)`: fields as printf; the path output goes to from
    /// now on (`""` for the original output).
    Freopen(Format),
    /// `commit(id)`: one field; prints the speculation's records.
    Commit,
    /// `discard(id)`: one field; drops them.
    Discard,
}

/// One data-recording action of a clause.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAction {
    /// What it is.
    pub kind: RecordKind,
    /// Its fields.
    pub fields: Vec<Field>,
}

/// An enabled probe of a clause (DTrace's EPID): how to decode its records.
#[derive(Debug, Clone)]
pub struct Enabling {
    /// EPID (1-based), the record header's first word.
    pub epid: u32,
    /// Index of the clause in the program.
    pub clause: usize,
    /// The statement (clause × probe description, in source order; 0 is
    /// the program's first) whose description named the probe: what
    /// DTrace calls `dt_clause_N` in run-time error messages, counted
    /// over all of a run's programs.
    pub statement: u32,
    /// The probe.
    pub probe: ProbeInfo,
    /// Record size in bytes, header included.
    pub size: u32,
    /// Action-mask words: the header's, then `mask_words - 1` right after
    /// the header (a clause with more than 64 data-recording actions).
    pub mask_words: u32,
    /// Data-recording actions in order; mask bit `i` = action `i` ran.
    pub actions: Vec<RecordAction>,
}

/// An aggregation's map and layout.
#[derive(Debug, Clone)]
pub struct AggObj {
    /// Aggregation id.
    pub id: AggId,
    /// Name without `@`.
    pub name: String,
    /// Function and parameters.
    pub func: AggFunc,
    /// Index into [`Object::maps`].
    pub map: usize,
    /// Key fields within the map key.
    pub keys: Vec<Field>,
    /// One name per key, for labelling (see [`crate::ir::Aggregation::key_names`]).
    pub key_names: Vec<String>,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Keyless: one per-CPU array slot (index 0) instead of a hash; its
    /// value starts with a u64 set to 1 once the CPU has aggregated, and
    /// `value_size` counts that word.
    pub array: bool,
}

/// The result of code generation.
#[derive(Debug, Clone)]
pub struct Object {
    /// Maps, referred to by index.
    pub maps: Vec<MapSpec>,
    /// One program per enabled probe.
    pub programs: Vec<ProgramObj>,
    /// Enablings by EPID − 1.
    pub enablings: Vec<Enabling>,
    /// Aggregations by id.
    pub aggs: Vec<AggObj>,
    /// `strsize`.
    pub strsize: u32,
    /// How many statements (clause × probe description) the program has.
    pub statements: u32,
}

impl Object {
    /// The `-S` listing: maps, then each program disassembled.
    pub fn disassembly(&self) -> String {
        let mut out = String::new();
        for (i, m) in self.maps.iter().enumerate() {
            out.push_str(&format!(
                "map {i} {} {:?} key {} value {} entries {}\n",
                m.name, m.kind, m.key_size, m.value_size, m.max_entries
            ));
        }
        for p in &self.programs {
            out.push_str(&format!(
                "\n{} ({:?}, {} insns, EPIDs {:?}):\n",
                p.probe.full_name(),
                p.prog_type,
                p.insns.len(),
                p.epids
            ));
            let names = |i: i32| {
                self.maps
                    .get(i as usize)
                    .map_or_else(|| i.to_string(), |m| m.name.clone())
            };
            out.push_str(&super::disasm::disassemble(&p.insns, &names));
        }
        out
    }
}

/// A run-time fault: DTrace's `DTRACEFLT_*` codes (the ERROR probe's `arg4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Fault {
    /// A read of memory that is not there (`arg5` is the address).
    BadAddr = 1,
    /// A misaligned access.
    BadAlign = 2,
    /// An operation D forbids.
    IllOp = 3,
    /// Division or remainder by zero.
    DivZero = 4,
    /// Scratch space exhausted (`alloca`).
    NoScratch = 5,
    /// A run-time index past a fixed-size D array (`arg5` is the index).
    BadIndex = 11,
}

impl Fault {
    /// The fault of an error record's code.
    pub fn from_code(code: u64) -> Option<Fault> {
        Some(match code {
            1 => Fault::BadAddr,
            2 => Fault::BadAlign,
            3 => Fault::IllOp,
            4 => Fault::DivZero,
            5 => Fault::NoScratch,
            11 => Fault::BadIndex,
            _ => return None,
        })
    }

    /// DTrace's words for it; addresses only where DTrace shows them.
    pub fn describe(self, addr: u64) -> String {
        match self {
            // DTrace leaves out an address of -1 (none known).
            Fault::BadAddr if addr == u64::MAX => "invalid address".into(),
            Fault::BadAddr => format!("invalid address (0x{addr:x})"),
            Fault::BadAlign => format!("invalid alignment (0x{addr:x})"),
            Fault::IllOp => "illegal operation".into(),
            Fault::DivZero => "divide-by-zero".into(),
            Fault::NoScratch => "out of scratch space".into(),
            Fault::BadIndex => format!("index out of bounds ({})", addr as i64),
        }
    }
}
