//! How a probe runs: its program type and where each `argN` comes from.
//! The engine knows this per provider; codegen asks through [`TargetResolver`].

use crate::catalog::ProbeInfo;

/// Kernel program type of a probe's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgType {
    /// `BPF_PROG_TYPE_TRACEPOINT`: ctx is the tracepoint's raw record.
    Tracepoint,
    /// `BPF_PROG_TYPE_PERF_EVENT`: ctx is `bpf_perf_event_data` (profile, tick).
    PerfEvent,
    /// `BPF_PROG_TYPE_KPROBE` on a uprobe: ctx is `pt_regs` (pid, usdt).
    Uprobe,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT` run by the consumer with
    /// `BPF_PROG_TEST_RUN` (BEGIN, END): ctx is an array of u64 arguments.
    RawTracepoint,
    /// `BPF_PROG_TYPE_TRACING` on a BPF trampoline (fbt): ctx is the
    /// function's arguments as u64s, then (at return) its return value.
    Trampoline {
        /// The traced function's BTF id.
        btf_id: u32,
        /// fexit rather than fentry.
        ret: bool,
    },
}

/// How [`ArgSource::CtxFieldOp`] transforms its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `value >> n`.
    Shr(u8),
    /// `value & mask`.
    And(u32),
    /// `value * n`.
    Mul(u32),
    /// The first byte of a block `rwbs` string as `bufinfo_t` flags:
    /// `B_READ` (0x40) for `R`, `B_WRITE` (0x100) for `W`, else 0.
    RwbsFlags,
    /// The low 16 bits, byte-swapped (network to host order).
    Ntohs,
    /// The low 32 bits, byte-swapped (network to host order).
    Ntohl,
    /// `value + n`.
    Add(i32),
    /// 1 when `value == n`, else 0.
    Eq(i32),
    /// `value | n`.
    Or(u32),
}

/// Where one probe argument is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgSource {
    /// An integer field of the tracepoint record.
    CtxField {
        /// Byte offset in the record.
        offset: u16,
        /// 1, 2, 4 or 8.
        size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// A `__data_loc` string: a u32 at `offset` holding (len << 16 | offset).
    CtxDataLoc {
        /// Offset of the u32 locator.
        offset: u16,
    },
    /// An inline array (`char comm[16]`): its address is `ctx + offset`.
    CtxArray {
        /// Byte offset in the record.
        offset: u16,
        /// Length in bytes.
        len: u16,
    },
    /// A function argument register of `pt_regs` (x86-64 ABI order).
    Reg(u8),
    /// The interrupted kernel (`user = false`) or user program counter of a
    /// perf event sample; 0 when the sample was taken in the other mode.
    PerfPc {
        /// User-mode PC.
        user: bool,
    },
    /// Always this value.
    Const(u64),
    /// A user-space string pointer field (read with `probe_read_user_str`).
    CtxUserString {
        /// Byte offset of the pointer in the record.
        offset: u16,
    },
    /// Not available yet; the text says why (referencing it is an error).
    Unavailable(String),
    /// A translated argument (`psinfo_t *`, `bufinfo_t *`…): a pointer to a
    /// D struct whose members each have their own source, by member byte
    /// offset. Only its members can be used.
    Translated(Vec<(u32, ArgSource)>),
    /// A register of the probe's `pt_regs` (a USDT argument), `size` bytes
    /// of it, sign-extended if `signed`.
    RegValue {
        /// Byte offset of the register in `pt_regs`.
        offset: u16,
        /// 1, 2, 4 or 8.
        size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// User memory at a register plus a displacement (a USDT argument).
    UserMem {
        /// Byte offset of the register in `pt_regs`.
        reg: u16,
        /// Displacement.
        disp: i32,
        /// 1, 2, 4 or 8.
        size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// `proc:::exit`'s `args[0]`: how the current task exits, from its
    /// `exit_code` — `CLD_EXITED` (1), `CLD_KILLED` (2) or `CLD_DUMPED` (3).
    ExitReason,
    /// The address of the record's field at `offset` (an inline array
    /// read as memory by [`ArgSource::Kernel`] or [`ArgSource::Inet`]).
    CtxAddr {
        /// Byte offset in the record.
        offset: u16,
    },
    /// `size` bytes of kernel memory at `base + offset`, sign-extended if
    /// `signed`; 0 when `base` is 0 (a NULL pointer in a chain).
    Kernel {
        /// The pointer.
        base: Box<ArgSource>,
        /// Displacement (a member's offset, from BTF).
        offset: i32,
        /// 1, 2, 4 or 8.
        size: u8,
        /// Sign-extend.
        signed: bool,
    },
    /// `a + b` (an address plus a computed offset).
    Sum(Box<ArgSource>, Box<ArgSource>),
    /// `value` when `mask` is 1, 0 when it is 0: with [`ArgSource::Sum`],
    /// a choice between two sources without a branch per use.
    Mask {
        /// 0 or 1.
        mask: Box<ArgSource>,
        /// The value kept.
        value: Box<ArgSource>,
    },
    /// A source transformed.
    Op {
        /// The value.
        src: Box<ArgSource>,
        /// The transformation.
        op: FieldOp,
    },
    /// An IP address as text: the 4 bytes at `v4` when `family` is
    /// AF_INET (2), the 16 at `v6` when AF_INET6 (10), else "".
    Inet {
        /// The address family.
        family: Box<ArgSource>,
        /// Address of an IPv4 address in kernel memory.
        v4: Box<ArgSource>,
        /// Address of an IPv6 address in kernel memory.
        v6: Box<ArgSource>,
    },
    /// A name for a small integer: `names[value]`, or "unknown".
    Names {
        /// The integer.
        value: Box<ArgSource>,
        /// Its names, by value.
        names: Vec<String>,
    },
    /// A NUL-terminated string in kernel memory at `addr` (`if_name`).
    KernelStr {
        /// Its address.
        addr: Box<ArgSource>,
    },
    /// An integer field of the record, transformed.
    CtxFieldOp {
        /// Byte offset in the record.
        offset: u16,
        /// 1, 2, 4 or 8.
        size: u8,
        /// The transformation.
        op: FieldOp,
    },
}

/// A condition on a tracepoint field that must hold for the probe to fire
/// (several DTrace probes share one tracepoint and differ by a field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Byte offset of the field.
    pub offset: u16,
    /// 1, 2, 4 or 8.
    pub size: u8,
    /// Compare signed.
    pub signed: bool,
    /// The comparison.
    pub cmp: FilterCmp,
    /// The constant compared with.
    pub value: i64,
    /// Compare this value instead of the record's field (a member of a
    /// kernel object the record points to: `skb->dev->rx_handler`).
    pub via: Option<Box<ArgSource>>,
}

/// Comparisons a [`Filter`] may make: `field CMP value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterCmp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `(field & value) == 0`
    AllClear,
    /// `(field & value) != 0`
    AnySet,
}

/// Everything codegen needs to know about one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Program type.
    pub prog_type: ProgType,
    /// Sources of `arg0…` (missing ones read as 0).
    pub args: Vec<ArgSource>,
    /// Sources of typed `args[0…]` when they differ from `argN` (else `args`).
    pub typed_args: Option<Vec<ArgSource>>,
    /// Conditions on the context, all of which must hold.
    pub filters: Vec<Filter>,
    /// For syscall return probes: the return value, from which `errno` is
    /// derived (`-ret` when negative, else 0); elsewhere `errno` is 0.
    pub syscall_ret: Option<ArgSource>,
    /// A probe on a function's first instruction (pid entry): its caller's
    /// return address is on top of the stack, not yet in a frame, so user
    /// stacks insert it as the second frame.
    pub function_entry: bool,
    /// For probes of packets and sockets: a `struct net *`, whose zone
    /// `zonename` and `zoneid` name (see `probes::netns`) rather than the
    /// current task's.
    pub netns: Option<ArgSource>,
}

/// The engine's knowledge of how each probe runs.
pub trait TargetResolver {
    /// The target of a probe, or why it cannot be traced.
    fn target(&self, probe: &ProbeInfo) -> Result<ProbeTarget, String>;

    /// Every target of a probe whose sites differ in where they keep its
    /// arguments (a USDT probe fired from two places the compiler laid
    /// out differently): one program is generated for each, in this
    /// order ([`crate::codegen::ProgramObj::variant`]). Most probes have
    /// one.
    fn targets(&self, probe: &ProbeInfo) -> Result<Vec<ProbeTarget>, String> {
        self.target(probe).map(|t| vec![t])
    }

    /// Byte offset and size of a member of a kernel struct (from BTF), for
    /// built-ins that read the current task (`ppid`, `vtimestamp`).
    fn kernel_member(&self, _strct: &str, _member: &str) -> Option<(u32, u32)> {
        None
    }
}
