//! `perf_event_open(2)` and the perf ioctls that hang a BPF program on an event.
//!
//! Three kinds of event carry the engine's programs: a tracepoint by its
//! tracefs id, the software cpu-clock event (`profile-N`, `tick-N`), and a
//! uprobe or uretprobe through the `uprobe` PMU (path + file offset, no
//! tracefs `uprobe_events` bookkeeping, gone when the fd closes). Every event
//! is opened disabled; [`set_bpf`] then [`enable`] start it.

use super::{check_fault, fd_result, unit_result, SysError};
use std::ffi::CStr;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// `perf_event_attr.disabled`, bit 0 of the flags word.
const ATTR_DISABLED: u64 = 1;

// _IO('$', 0), _IO('$', 1), _IOW('$', 8, __u32).
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// `struct perf_event_attr` through `sig_data` (`PERF_ATTR_SIZE_VER7`, Linux 5.13).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// The bitfield word: `disabled` is bit 0.
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    /// `config1`: for the uprobe PMU, a pointer to the binary's path.
    config1: u64,
    /// `config2`: for the uprobe PMU, the probe's file offset.
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    aux_action: u32,
    sig_data: u64,
}
const _: () = {
    assert!(offset_of!(PerfEventAttr, config) == 8);
    assert!(offset_of!(PerfEventAttr, flags) == 40);
    assert!(offset_of!(PerfEventAttr, wakeup_events) == 48);
    assert!(offset_of!(PerfEventAttr, config1) == 56);
    assert!(offset_of!(PerfEventAttr, config2) == 64);
    assert!(offset_of!(PerfEventAttr, sample_regs_intr) == 96);
    assert!(offset_of!(PerfEventAttr, sig_data) == 120);
    assert!(size_of::<PerfEventAttr>() == 128);
};

/// The one place `perf_event_open(2)` is called.
fn sys_perf_event_open(attr: &mut PerfEventAttr, pid: i32, cpu: i32) -> Result<OwnedFd, SysError> {
    let call = "perf_event_open";
    check_fault(call)?;
    attr.size = size_of::<PerfEventAttr>() as u32;
    attr.flags |= ATTR_DISABLED;
    // SAFETY: `attr` is a live, initialised `struct perf_event_attr` of the
    // size it declares; the only pointer it may hold (config1, uprobe path)
    // points at a NUL-terminated string our caller keeps alive for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            attr as *mut PerfEventAttr,
            pid,
            cpu,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    fd_result(call, ret)
}

/// Open the tracepoint with tracefs id `id` (`events/<sys>/<name>/id`). A
/// program attached to it runs for every task on every CPU.
pub fn open_tracepoint(id: u64) -> Result<OwnedFd, SysError> {
    let mut attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        config: id,
        ..Default::default()
    };
    sys_perf_event_open(&mut attr, -1, 0)
}

/// Open the software cpu-clock event on `cpu`, sampling every `period_ns`
/// nanoseconds of CPU time, for all tasks.
pub fn open_cpu_clock(period_ns: u64, cpu: u32) -> Result<OwnedFd, SysError> {
    let mut attr = PerfEventAttr {
        type_: PERF_TYPE_SOFTWARE,
        config: PERF_COUNT_SW_CPU_CLOCK,
        sample_period: period_ns,
        ..Default::default()
    };
    sys_perf_event_open(&mut attr, -1, cpu as i32)
}

/// Open a uprobe through the `uprobe` PMU (`pmu_type` from
/// `/sys/bus/event_source/devices/uprobe/type`) on `path` at file
/// `offset`. `retprobe_bit` is the config bit from `.../format/retprobe`
/// for a uretprobe, `None` for a uprobe. `pid` restricts it to one
/// process; `None` means every process that maps `path`. `ref_ctr_offset`,
/// if not 0, is the file offset of a USDT semaphore the kernel increments
/// while the probe is attached (`PERF_UPROBE_REF_CTR_OFFSET_SHIFT`: the
/// upper 32 bits of `config`).
pub fn open_uprobe(
    pmu_type: u32,
    retprobe_bit: Option<u32>,
    path: &CStr,
    offset: u64,
    ref_ctr_offset: u64,
    pid: Option<i32>,
) -> Result<OwnedFd, SysError> {
    let mut attr = PerfEventAttr {
        type_: pmu_type,
        config: retprobe_bit.map_or(0, |bit| 1u64 << bit) | ref_ctr_offset << 32,
        config1: path.as_ptr() as u64,
        config2: offset,
        ..Default::default()
    };
    match pid {
        Some(pid) => sys_perf_event_open(&mut attr, pid, -1),
        None => sys_perf_event_open(&mut attr, -1, 0),
    }
}

/// The one place the perf ioctls are called.
fn perf_ioctl(
    call: &'static str,
    event: BorrowedFd<'_>,
    request: libc::c_ulong,
    arg: libc::c_ulong,
) -> Result<(), SysError> {
    check_fault(call)?;
    // SAFETY: `event` is an open fd; these three requests take an integer
    // argument (a program fd or 0), not a pointer, so no memory is shared.
    let ret = unsafe { libc::ioctl(event.as_raw_fd(), request as _, arg) };
    unit_result(call, ret as libc::c_long)
}

/// `PERF_EVENT_IOC_SET_BPF`: run `prog` whenever `event` fires.
pub fn set_bpf(event: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl(
        "ioctl(PERF_EVENT_IOC_SET_BPF)",
        event,
        PERF_EVENT_IOC_SET_BPF,
        prog.as_raw_fd() as libc::c_ulong,
    )
}

/// `PERF_EVENT_IOC_ENABLE`.
pub fn enable(event: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl(
        "ioctl(PERF_EVENT_IOC_ENABLE)",
        event,
        PERF_EVENT_IOC_ENABLE,
        0,
    )
}

/// `PERF_EVENT_IOC_DISABLE`.
pub fn disable(event: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl(
        "ioctl(PERF_EVENT_IOC_DISABLE)",
        event,
        PERF_EVENT_IOC_DISABLE,
        0,
    )
}
