//! `bpf(2)`: creating and using maps, loading programs, opening raw tracepoints.
//!
//! The `bpf_attr` layouts are our own `#[repr(C)]` structs, one per command,
//! checked field by field against the kernel's uapi `union bpf_attr` (the
//! `const` offset assertions below). The kernel accepts a shorter attr than
//! its own as long as the bytes it knows and we don't are zero, so each
//! struct stops after the last field we use.
//!
//! A [`BpfMap`] remembers the key and value sizes it was created with, so
//! its lookups can check buffer lengths before the kernel writes into them:
//! that check is what makes these wrappers safe.

use super::{check_fault, fd_result, Errno, SysError};
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

#[cfg(target_endian = "big")]
compile_error!(
    "eBPF instructions are encoded little-endian here; big-endian hosts are not supported"
);

// bpf(2) commands (enum bpf_cmd).
const BPF_MAP_CREATE: libc::c_int = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_int = 1;
const BPF_MAP_UPDATE_ELEM: libc::c_int = 2;
const BPF_MAP_DELETE_ELEM: libc::c_int = 3;
const BPF_MAP_GET_NEXT_KEY: libc::c_int = 4;
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_int = 17;

/// Length of kernel object names (`BPF_OBJ_NAME_LEN`), NUL included.
pub const OBJ_NAME_LEN: usize = 16;

/// The map types the engine uses (`enum bpf_map_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// `BPF_MAP_TYPE_HASH`: associative arrays, `self->` variables.
    Hash,
    /// `BPF_MAP_TYPE_ARRAY`: globals.
    Array,
    /// `BPF_MAP_TYPE_PERCPU_HASH`: keyed aggregations.
    PercpuHash,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`: scratch space, unkeyed aggregations.
    PercpuArray,
    /// `BPF_MAP_TYPE_RINGBUF`: trace records to the consumer
    /// (key and value size 0, `max_entries` = bytes, a power-of-2 multiple of the page size).
    RingBuf,
    /// `BPF_MAP_TYPE_PROG_ARRAY`: program fds for `bpf_tail_call`, keyed by
    /// a u32 index (the syscall dispatcher's table).
    ProgArray,
    /// `BPF_MAP_TYPE_LRU_HASH`: the zones' pinned table of network
    /// namespaces (`probes::netns`).
    LruHash,
}

impl MapKind {
    /// The kernel's number for this type.
    pub fn raw(self) -> u32 {
        match self {
            MapKind::Hash => 1,
            MapKind::Array => 2,
            MapKind::PercpuHash => 5,
            MapKind::PercpuArray => 6,
            MapKind::RingBuf => 27,
            MapKind::ProgArray => 3,
            MapKind::LruHash => 9,
        }
    }

    /// Whether a lookup returns one value per possible CPU.
    pub fn is_percpu(self) -> bool {
        matches!(self, MapKind::PercpuHash | MapKind::PercpuArray)
    }
}

/// The program types the engine loads (`enum bpf_prog_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgKind {
    /// `BPF_PROG_TYPE_KPROBE`: also the type for uprobes and uretprobes.
    Kprobe,
    /// `BPF_PROG_TYPE_TRACEPOINT`: the context is the tracepoint's record (tracefs `format`).
    Tracepoint,
    /// `BPF_PROG_TYPE_PERF_EVENT`: the cpu-clock event of `profile-N` / `tick-N`.
    PerfEvent,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`: the context is the tracepoint's raw `u64` arguments.
    RawTracepoint,
    /// `BPF_PROG_TYPE_TRACING` as fentry (`ret` false) or fexit on the
    /// kernel function with BTF id `btf_id`.
    Trampoline {
        /// The function's BTF id in vmlinux.
        btf_id: u32,
        /// fexit.
        ret: bool,
    },
}

impl ProgKind {
    /// The kernel's number for this type.
    pub fn raw(self) -> u32 {
        match self {
            ProgKind::Kprobe => 2,
            ProgKind::Tracepoint => 5,
            ProgKind::PerfEvent => 7,
            ProgKind::RawTracepoint => 17,
            ProgKind::Trampoline { .. } => 26,
        }
    }
}

/// How [`BpfMap::update`] treats an existing or missing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFlags {
    /// `BPF_ANY`: create or replace.
    Any,
    /// `BPF_NOEXIST`: create only.
    NoExist,
    /// `BPF_EXIST`: replace only.
    Exist,
}

impl UpdateFlags {
    fn raw(self) -> u64 {
        match self {
            UpdateFlags::Any => 0,
            UpdateFlags::NoExist => 1,
            UpdateFlags::Exist => 2,
        }
    }
}

/// `BPF_MAP_CREATE`'s part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}
const _: () = {
    assert!(offset_of!(MapCreateAttr, map_flags) == 16);
    assert!(offset_of!(MapCreateAttr, map_name) == 28);
    assert!(offset_of!(MapCreateAttr, map_ifindex) == 44);
    assert!(offset_of!(MapCreateAttr, btf_vmlinux_value_type_id) == 60);
    assert!(offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(size_of::<MapCreateAttr>() == 72);
};

/// `BPF_MAP_*_ELEM` / `BPF_MAP_GET_NEXT_KEY`'s part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    /// `value`, or `next_key` for `BPF_MAP_GET_NEXT_KEY`.
    value: u64,
    flags: u64,
}
const _: () = {
    assert!(offset_of!(MapElemAttr, key) == 8);
    assert!(offset_of!(MapElemAttr, value) == 16);
    assert!(offset_of!(MapElemAttr, flags) == 24);
    assert!(size_of::<MapElemAttr>() == 32);
};

/// `BPF_PROG_LOAD`'s part of `union bpf_attr` (through `log_true_size`, Linux 6.4).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    /// Out: the log size the verifier wanted (Linux ≥ 6.4; 0 before).
    log_true_size: u32,
}
const _: () = {
    assert!(offset_of!(ProgLoadAttr, insns) == 8);
    assert!(offset_of!(ProgLoadAttr, license) == 16);
    assert!(offset_of!(ProgLoadAttr, log_level) == 24);
    assert!(offset_of!(ProgLoadAttr, log_buf) == 32);
    assert!(offset_of!(ProgLoadAttr, kern_version) == 40);
    assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
    assert!(offset_of!(ProgLoadAttr, prog_ifindex) == 64);
    assert!(offset_of!(ProgLoadAttr, expected_attach_type) == 68);
    assert!(offset_of!(ProgLoadAttr, func_info) == 80);
    assert!(offset_of!(ProgLoadAttr, line_info) == 96);
    assert!(offset_of!(ProgLoadAttr, attach_btf_id) == 108);
    assert!(offset_of!(ProgLoadAttr, fd_array) == 120);
    assert!(offset_of!(ProgLoadAttr, core_relos) == 128);
    assert!(offset_of!(ProgLoadAttr, core_relo_rec_size) == 136);
    assert!(offset_of!(ProgLoadAttr, log_true_size) == 140);
    assert!(size_of::<ProgLoadAttr>() == 144);
};

const BPF_OBJ_PIN: libc::c_int = 6;
const BPF_OBJ_GET: libc::c_int = 7;

/// `BPF_OBJ_PIN` / `BPF_OBJ_GET`'s part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct PinAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}
const _: () = assert!(size_of::<PinAttr>() == 16);

/// Mount the bpf filesystem at `/sys/fs/bpf` if nothing is mounted there,
/// and make the directories of `path` (best effort: pinning reports what
/// failed).
fn mount_bpffs(path: &str) {
    const BPF_FS_MAGIC: i64 = 0xcafe4a11;
    // SAFETY: statfs fills the struct it is given.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated literal path and the struct above.
    let ok = unsafe { libc::statfs(c"/sys/fs/bpf".as_ptr(), &mut st) } == 0;
    if !ok || st.f_type != BPF_FS_MAGIC {
        let _ = std::fs::create_dir_all("/sys/fs/bpf");
        // SAFETY: mount with NUL-terminated literals and no data.
        unsafe {
            libc::mount(
                c"bpf".as_ptr(),
                c"/sys/fs/bpf".as_ptr(),
                c"bpf".as_ptr(),
                0,
                std::ptr::null(),
            );
        }
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
}

/// `BPF_RAW_TRACEPOINT_OPEN`'s part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct RawTracepointAttr {
    name: u64,
    prog_fd: u32,
    _pad: u32,
}
const _: () = assert!(size_of::<RawTracepointAttr>() == 16);

/// `BPF_PROG_TEST_RUN`'s part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}
const _: () = assert!(size_of::<TestRunAttr>() == 80);

const BPF_PROG_TEST_RUN: libc::c_int = 10;

/// `bpf(BPF_PROG_TEST_RUN)` of a [`ProgKind::RawTracepoint`] program with
/// `args` as its context, on the calling thread's CPU: how the consumer
/// fires BEGIN and END without attaching anything. Returns the program's
/// return value.
pub fn prog_test_run(prog: BorrowedFd<'_>, args: &[u64]) -> Result<u32, SysError> {
    let call = "bpf(BPF_PROG_TEST_RUN)";
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        ctx_size_in: std::mem::size_of_val(args) as u32,
        ctx_in: if args.is_empty() {
            0
        } else {
            args.as_ptr() as u64
        },
        ..Default::default()
    };
    sys_bpf(call, BPF_PROG_TEST_RUN, &mut attr)?;
    Ok(attr.retval)
}

/// The one place `bpf(2)` is called.
fn sys_bpf<T>(
    call: &'static str,
    cmd: libc::c_int,
    attr: &mut T,
) -> Result<libc::c_long, SysError> {
    check_fault(call)?;
    // SAFETY: `attr` is a live, initialised #[repr(C)] prefix of `union
    // bpf_attr` for `cmd` (layouts asserted above), its size is passed, and
    // every pointer inside it was set by our callers from live buffers of the
    // sizes the kernel will read or write for this command.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size_of::<T>() as u32) };
    if ret < 0 {
        Err(SysError::last(call))
    } else {
        Ok(ret)
    }
}

/// A kernel object name: `[A-Za-z0-9_.]`, at most 15 bytes, NUL padded.
/// Other bytes become `_` (the kernel refuses them).
pub fn obj_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    for (dst, b) in out.iter_mut().zip(name.bytes().take(OBJ_NAME_LEN - 1)) {
        *dst = if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            b
        } else {
            b'_'
        };
    }
    out
}

static REFUSED: OnceLock<Option<String>> = OnceLock::new();

/// Environment variable that makes [`refused`] report a refusal: fault
/// injection for the user-space fallback, on machines that do allow BPF.
pub const INJECT_REFUSAL: &str = "LUMEN_INJECT_BPF_REFUSAL";

/// Whether this process may not use BPF at all (no privilege, or a kernel
/// without `bpf(2)`), tried once with a one-entry array; the errno if so.
pub fn refused() -> Option<String> {
    REFUSED
        .get_or_init(|| {
            if std::env::var_os(INJECT_REFUSAL).is_some() {
                return Some(format!("{INJECT_REFUSAL} is set"));
            }
            let def = MapDef {
                kind: MapKind::Array,
                key_size: 4,
                value_size: 8,
                max_entries: 1,
                flags: 0,
                name: "lumen_probe".into(),
            };
            match BpfMap::create(&def) {
                Ok(_) => None,
                Err(e) if matches!(e.raw_errno(), libc::EPERM | libc::EACCES | libc::ENOSYS) => {
                    Some(e.to_string())
                }
                Err(_) => None,
            }
        })
        .clone()
}

static POSSIBLE_CPUS: OnceLock<usize> = OnceLock::new();

/// How many slots a per-CPU lookup returns: the number of possible CPUs
/// (read once; 1 if sysfs cannot tell, which the kernel never does).
pub fn possible_cpu_count() -> usize {
    *POSSIBLE_CPUS.get_or_init(|| {
        super::possible_cpus()
            .ok()
            .and_then(|c| c.iter().max().map(|m| *m as usize + 1))
            .unwrap_or(1)
    })
}

/// What to create: the arguments of `BPF_MAP_CREATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDef {
    /// The map type.
    pub kind: MapKind,
    /// Key size in bytes (0 for [`MapKind::RingBuf`]; 4 for arrays).
    pub key_size: u32,
    /// Value size in bytes (0 for [`MapKind::RingBuf`]).
    pub value_size: u32,
    /// Entries; for [`MapKind::RingBuf`], the buffer size in bytes.
    pub max_entries: u32,
    /// `BPF_F_*` creation flags (e.g. `BPF_F_NO_PREALLOC` = 1 for hashes).
    pub flags: u32,
    /// The name `bpftool map` shows (sanitised by [`obj_name`]).
    pub name: String,
}

/// A map we created, with the sizes its lookups are checked against.
#[derive(Debug)]
pub struct BpfMap {
    fd: OwnedFd,
    def: MapDef,
}

impl BpfMap {
    /// `bpf(BPF_MAP_CREATE)`.
    pub fn create(def: &MapDef) -> Result<BpfMap, SysError> {
        let mut attr = MapCreateAttr {
            map_type: def.kind.raw(),
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_flags: def.flags,
            map_name: obj_name(&def.name),
            ..Default::default()
        };
        let call = "bpf(BPF_MAP_CREATE)";
        let fd = fd_result(call, sys_bpf(call, BPF_MAP_CREATE, &mut attr)?)?;
        Ok(BpfMap {
            fd,
            def: def.clone(),
        })
    }

    /// The map pinned at `path` (a bpf filesystem path), or, when there is
    /// none yet, a new one of `def` pinned there (the bpf filesystem is
    /// mounted at `/sys/fs/bpf` if it is not). Shared tables, such as the
    /// zones' network namespaces, live there beyond any one program.
    pub fn open_pinned(path: &str, def: &MapDef) -> Result<BpfMap, SysError> {
        let c = std::ffi::CString::new(path).map_err(|_| SysError {
            call: "bpf(BPF_OBJ_GET)",
            errno: super::Errno(libc::EINVAL),
        })?;
        let get = || {
            let mut a = PinAttr {
                pathname: c.as_ptr() as u64,
                ..Default::default()
            };
            let call = "bpf(BPF_OBJ_GET)";
            sys_bpf(call, BPF_OBJ_GET, &mut a).and_then(|r| fd_result(call, r))
        };
        match get() {
            Ok(fd) => {
                return Ok(BpfMap {
                    fd,
                    def: def.clone(),
                })
            }
            Err(e) if e.raw_errno() != libc::ENOENT => return Err(e),
            Err(_) => {}
        }
        mount_bpffs(path);
        let map = BpfMap::create(def)?;
        let mut a = PinAttr {
            pathname: c.as_ptr() as u64,
            bpf_fd: map.fd.as_raw_fd() as u32,
            ..Default::default()
        };
        match sys_bpf("bpf(BPF_OBJ_PIN)", BPF_OBJ_PIN, &mut a) {
            Ok(_) => Ok(map),
            // Pinned by someone else meanwhile: theirs is the table.
            Err(e) if e.raw_errno() == libc::EEXIST => get().map(|fd| BpfMap {
                fd,
                def: def.clone(),
            }),
            // No bpf filesystem to pin on: this program's own table, which
            // no zone fills (every namespace reads as the global zone's).
            Err(_) => Ok(map),
        }
    }

    /// What the map was created with.
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// Bytes one lookup fills: `value_size`, or for per-CPU maps
    /// `value_size` rounded up to 8, times [`possible_cpu_count`].
    pub fn lookup_size(&self) -> usize {
        let v = self.def.value_size as usize;
        if self.def.kind.is_percpu() {
            v.next_multiple_of(8) * possible_cpu_count()
        } else {
            v
        }
    }

    fn check_key(&self, call: &'static str, key: &[u8]) -> Result<(), SysError> {
        if key.len() != self.def.key_size as usize {
            return Err(SysError {
                call,
                errno: Errno(libc::EINVAL),
            });
        }
        Ok(())
    }

    fn elem(&self, key: &[u8], value: u64, flags: u64) -> MapElemAttr {
        MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value,
            flags,
            ..Default::default()
        }
    }

    /// `bpf(BPF_MAP_LOOKUP_ELEM)` into `value` (length [`Self::lookup_size`]).
    /// `Ok(false)` when the key is absent.
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool, SysError> {
        let call = "bpf(BPF_MAP_LOOKUP_ELEM)";
        self.check_key(call, key)?;
        if value.len() != self.lookup_size() {
            return Err(SysError {
                call,
                errno: Errno(libc::EINVAL),
            });
        }
        let mut attr = self.elem(key, value.as_mut_ptr() as u64, 0);
        match sys_bpf(call, BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_errno() == libc::ENOENT => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `bpf(BPF_MAP_UPDATE_ELEM)`; `value` has length [`Self::lookup_size`]
    /// (per-CPU maps take one 8-byte-aligned slot per possible CPU).
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), SysError> {
        let call = "bpf(BPF_MAP_UPDATE_ELEM)";
        self.check_key(call, key)?;
        if value.len() != self.lookup_size() {
            return Err(SysError {
                call,
                errno: Errno(libc::EINVAL),
            });
        }
        let mut attr = self.elem(key, value.as_ptr() as u64, flags.raw());
        sys_bpf(call, BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
    }

    /// `bpf(BPF_MAP_DELETE_ELEM)`; `Ok(false)` when the key was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool, SysError> {
        let call = "bpf(BPF_MAP_DELETE_ELEM)";
        self.check_key(call, key)?;
        let mut attr = self.elem(key, 0, 0);
        match sys_bpf(call, BPF_MAP_DELETE_ELEM, &mut attr) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_errno() == libc::ENOENT => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `bpf(BPF_MAP_GET_NEXT_KEY)`: the key after `key` (the first key for
    /// `None`) into `next`; `Ok(false)` past the last key.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool, SysError> {
        let call = "bpf(BPF_MAP_GET_NEXT_KEY)";
        if let Some(key) = key {
            self.check_key(call, key)?;
        }
        self.check_key(call, next)?;
        let mut attr = self.elem(key.unwrap_or(&[]), next.as_mut_ptr() as u64, 0);
        if key.is_none() {
            attr.key = 0;
        }
        match sys_bpf(call, BPF_MAP_GET_NEXT_KEY, &mut attr) {
            Ok(_) => Ok(true),
            Err(e) if e.raw_errno() == libc::ENOENT => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl BpfMap {
    /// Look `key` up into a fresh buffer of [`Self::lookup_size`] bytes.
    pub fn lookup_vec(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SysError> {
        let mut value = vec![0u8; self.lookup_size()];
        Ok(self.lookup(key, &mut value)?.then_some(value))
    }

    /// Look `key` up in a per-CPU map: one `value_size` slice per possible
    /// CPU, in CPU order. For other maps, the one value.
    pub fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, SysError> {
        let Some(all) = self.lookup_vec(key)? else {
            return Ok(None);
        };
        let size = self.def.value_size as usize;
        if !self.def.kind.is_percpu() {
            return Ok(Some(vec![all]));
        }
        let stride = size.next_multiple_of(8);
        Ok(Some(
            all.chunks(stride.max(1))
                .map(|slot| slot[..size].to_vec())
                .collect(),
        ))
    }

    /// Every key, by repeated [`Self::next_key`]. Keys deleted or added
    /// meanwhile may be missed or seen; the kernel restarts from the first
    /// key if the current one vanished.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>, SysError> {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut next = vec![0u8; self.def.key_size as usize];
        while self.next_key(keys.last().map(Vec::as_slice), &mut next)? {
            keys.push(next.clone());
            if keys.len() > self.def.max_entries as usize {
                break; // a map churning under us: stop rather than loop
            }
        }
        Ok(keys)
    }
}

impl AsFd for BpfMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A `BPF_PROG_LOAD` the verifier (or the kernel) refused, with its log.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ProgLoadError {
    /// The call and errno (`EACCES` or `EINVAL` from the verifier).
    pub error: SysError,
    /// The verifier log (level 1) of the failed load; empty if the kernel gave none.
    pub log: String,
}

/// The first verifier log buffer; it grows 4× on `ENOSPC` up to [`LOG_MAX`].
pub const LOG_START: usize = 1 << 20;
/// The largest verifier log buffer tried.
pub const LOG_MAX: usize = 16 << 20;

const LICENSE: &[u8] = b"GPL\0";

/// `bpf(BPF_PROG_LOAD)` of `insns` (one `struct bpf_insn` per `u64`, the
/// opcode in the low byte), licence GPL.
///
/// The first attempt asks for no log (the fast path: ~1–3 ms for a small
/// program). If it fails, the load is repeated with `log_level` 1 and a
/// [`LOG_START`] buffer, grown on `ENOSPC`, and the log comes back in the error.
pub fn prog_load(kind: ProgKind, name: &str, insns: &[u64]) -> Result<OwnedFd, ProgLoadError> {
    let call = "bpf(BPF_PROG_LOAD)";
    let mut attr = ProgLoadAttr {
        prog_type: kind.raw(),
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        prog_name: obj_name(name),
        ..Default::default()
    };
    if let ProgKind::Trampoline { btf_id, ret } = kind {
        // BPF_TRACE_FENTRY 24, BPF_TRACE_FEXIT 25.
        attr.expected_attach_type = if ret { 25 } else { 24 };
        attr.attach_btf_id = btf_id;
    }
    let first = match sys_bpf(call, BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => {
            return fd_result(call, fd).map_err(|error| ProgLoadError {
                error,
                log: String::new(),
            })
        }
        Err(e) => e,
    };
    // The verifier answers EACCES or EINVAL, and E2BIG or EFAULT for
    // programs too complex for it: those are worth its log.
    if !matches!(
        first.raw_errno(),
        libc::EACCES | libc::EINVAL | libc::E2BIG | libc::EFAULT
    ) {
        // Not the verifier (EPERM, E2BIG, ENOMEM…): a log would not say more.
        return Err(ProgLoadError {
            error: first,
            log: String::new(),
        });
    }
    let mut size = LOG_START;
    loop {
        let mut log = vec![0u8; size];
        attr.log_level = 1;
        attr.log_size = size as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
        attr.log_true_size = 0;
        let result = sys_bpf(call, BPF_PROG_LOAD, &mut attr);
        let text = log_text(&log);
        match result {
            Ok(fd) => {
                return fd_result(call, fd).map_err(|error| ProgLoadError { error, log: text });
            }
            Err(e) if e.raw_errno() == libc::ENOSPC && size < LOG_MAX => {
                let wanted = attr.log_true_size as usize;
                size = (size * 4).max(wanted).min(LOG_MAX);
            }
            Err(e) => {
                return Err(ProgLoadError {
                    // Report the verifier's errno, not the log's ENOSPC.
                    error: if e.raw_errno() == libc::ENOSPC {
                        first
                    } else {
                        e
                    },
                    log: text,
                });
            }
        }
    }
}

/// The NUL-terminated text in a verifier log buffer.
fn log_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

static TRAMPOLINES: OnceLock<Option<String>> = OnceLock::new();

/// Whether the kernel refuses BPF trampolines (fentry/fexit), found once by
/// loading `r0 = 0; exit` as fentry on `function` (BTF id); the errno if so.
pub fn trampolines_refused(function: u32) -> Option<String> {
    TRAMPOLINES
        .get_or_init(|| {
            let insns = [0x0000_0000_0000_00b7u64, 0x0000_0000_0000_0095];
            let kind = ProgKind::Trampoline {
                btf_id: function,
                ret: false,
            };
            match prog_load(kind, "lumen_fbt_test", &insns) {
                Ok(_) => None,
                Err(e) => Some(e.error.to_string()),
            }
        })
        .clone()
}

/// `bpf(BPF_RAW_TRACEPOINT_OPEN)` with no name: attach a tracing program
/// (fentry/fexit) to the function it was loaded for.
pub fn trampoline_attach(prog: BorrowedFd<'_>) -> Result<OwnedFd, SysError> {
    let call = "bpf(BPF_RAW_TRACEPOINT_OPEN)";
    let mut attr = RawTracepointAttr {
        name: 0,
        prog_fd: prog.as_raw_fd() as u32,
        ..Default::default()
    };
    let ret = sys_bpf(call, BPF_RAW_TRACEPOINT_OPEN, &mut attr)?;
    fd_result(call, ret)
}

/// `bpf(BPF_RAW_TRACEPOINT_OPEN)`: attach a [`ProgKind::RawTracepoint`]
/// program to the tracepoint `name` (e.g. `sys_enter`); closing the fd detaches it.
pub fn raw_tracepoint_open(name: &str, prog: BorrowedFd<'_>) -> Result<OwnedFd, SysError> {
    let call = "bpf(BPF_RAW_TRACEPOINT_OPEN)";
    let name = std::ffi::CString::new(name).map_err(|_| SysError {
        call,
        errno: Errno(libc::EINVAL),
    })?;
    let mut attr = RawTracepointAttr {
        name: name.as_ptr() as u64,
        prog_fd: prog.as_raw_fd() as u32,
        ..Default::default()
    };
    let ret = sys_bpf(call, BPF_RAW_TRACEPOINT_OPEN, &mut attr)?;
    fd_result(call, ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_sanitised_and_truncated() {
        assert_eq!(&obj_name("counts")[..7], b"counts\0");
        assert_eq!(&obj_name("a-b:c")[..6], b"a_b_c\0");
        let long = obj_name("a_very_long_map_name_indeed");
        assert_eq!(long[15], 0);
        assert_eq!(&long[..15], b"a_very_long_map");
    }

    #[test]
    fn log_text_stops_at_nul() {
        assert_eq!(log_text(b"abc\0\0junk"), "abc");
        assert_eq!(log_text(b"abc"), "abc");
    }
}
