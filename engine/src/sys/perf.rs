//! Perf events, opened through the `perf-event` crate, and the perf ioctls
//! that hang a BPF program on one.
//!
//! Four kinds of event carry the engine's programs: a tracepoint by its
//! tracefs id, a sampling counter (the software cpu-clock for `profile-N`
//! and `tick-N`; any software or hardware counter for `cpc`), and a uprobe
//! or uretprobe through the `uprobe` PMU (path + file offset, no tracefs
//! `uprobe_events` bookkeeping, gone when the fd closes). Every event is
//! opened disabled; [`set_bpf`] then [`enable`] start it.

use super::{check_fault, unit_result, Errno, SysError};
use perf_event::Builder;
use perf_event_open_sys::ioctls;
use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

const PERF_TYPE_SOFTWARE: u32 = 1;
const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_COUNT_SW_CPU_CLOCK`: nanoseconds of CPU time.
pub const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;

/// A builder for an event that counts in user and kernel mode alike, of
/// perf type `type_` and `config`. The crate's defaults exclude the kernel
/// and the hypervisor, which would hide every tracepoint and kernel sample.
fn builder(type_: u32, config: u64) -> Builder<'static> {
    let mut b = Builder::new();
    b.include_kernel().include_hv().enabled(false);
    let attrs = b.attrs_mut();
    attrs.type_ = type_;
    attrs.config = config;
    attrs.read_format = 0;
    b
}

/// Open the event `builder` describes: the one place events are opened.
fn open(builder: Builder<'_>) -> Result<OwnedFd, SysError> {
    let call = "perf_event_open";
    check_fault(call)?;
    let counter = builder.build().map_err(|e| SysError {
        call,
        errno: Errno(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    // SAFETY: the counter owned this fd and gives it up here.
    let fd = unsafe { OwnedFd::from_raw_fd(counter.into_raw_fd()) };
    // The crate opens without PERF_FLAG_FD_CLOEXEC: a `-c` command must not
    // inherit the tracer's events.
    // SAFETY: F_SETFD with an integer flag on a descriptor we own.
    let ret = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    unit_result("fcntl(F_SETFD)", ret as libc::c_long)?;
    Ok(fd)
}

/// Open the tracepoint with tracefs id `id` (`events/<sys>/<name>/id`). A
/// program attached to it runs for every task on every CPU.
pub fn open_tracepoint(id: u64) -> Result<OwnedFd, SysError> {
    open(builder(PERF_TYPE_TRACEPOINT, id).any_pid().one_cpu(0))
}

/// Which privilege levels a sampling counter counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CountMode {
    /// User and kernel mode.
    All,
    /// User mode only.
    User,
    /// Kernel mode only.
    Kernel,
}

/// A counter that overflows, and runs its program, every `period` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sampler {
    /// `perf_event_attr.type` (`PERF_TYPE_SOFTWARE`, `PERF_TYPE_HARDWARE`…).
    pub perf_type: u32,
    /// `perf_event_attr.config`: the counter within the type.
    pub config: u64,
    /// Events per sample (nanoseconds for the clocks).
    pub period: u64,
    /// Where events are counted.
    pub mode: CountMode,
}

impl Sampler {
    /// The software cpu-clock every `period_ns` nanoseconds of CPU time.
    pub fn cpu_clock(period_ns: u64) -> Sampler {
        Sampler {
            perf_type: PERF_TYPE_SOFTWARE,
            config: PERF_COUNT_SW_CPU_CLOCK,
            period: period_ns,
            mode: CountMode::All,
        }
    }
}

/// Open `sampler` on `cpu`, for all tasks.
pub fn open_sampler(sampler: &Sampler, cpu: u32) -> Result<OwnedFd, SysError> {
    let mut b = builder(sampler.perf_type, sampler.config);
    b.sample_period(sampler.period)
        .exclude_user(sampler.mode == CountMode::Kernel)
        .exclude_kernel(sampler.mode == CountMode::User);
    open(b.any_pid().one_cpu(cpu as usize))
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
    let config = retprobe_bit.map_or(0, |bit| 1u64 << bit) | ref_ctr_offset << 32;
    let mut b = builder(pmu_type, config);
    let attrs = b.attrs_mut();
    // The kernel reads the path during the call; `path` outlives it.
    attrs.__bindgen_anon_3.config1 = path.as_ptr() as u64;
    attrs.__bindgen_anon_4.config2 = offset;
    match pid {
        Some(pid) => open(b.observe_pid(pid).any_cpu()),
        None => open(b.any_pid().one_cpu(0)),
    }
}

/// The one place the perf ioctls are called.
fn perf_ioctl(
    call: &'static str,
    event: BorrowedFd<'_>,
    ioctl: unsafe fn(libc::c_int, u32) -> libc::c_int,
    arg: u32,
) -> Result<(), SysError> {
    check_fault(call)?;
    // SAFETY: `event` is an open perf fd; these requests take an integer
    // argument (a program fd or 0), not a pointer, so no memory is shared.
    let ret = unsafe { ioctl(event.as_raw_fd(), arg) };
    unit_result(call, ret as libc::c_long)
}

/// `PERF_EVENT_IOC_SET_BPF`: run `prog` whenever `event` fires.
pub fn set_bpf(event: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl(
        "ioctl(PERF_EVENT_IOC_SET_BPF)",
        event,
        ioctls::SET_BPF,
        prog.as_raw_fd() as u32,
    )
}

/// `PERF_EVENT_IOC_ENABLE`.
pub fn enable(event: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl("ioctl(PERF_EVENT_IOC_ENABLE)", event, ioctls::ENABLE, 0)
}

/// `PERF_EVENT_IOC_DISABLE`.
pub fn disable(event: BorrowedFd<'_>) -> Result<(), SysError> {
    perf_ioctl("ioctl(PERF_EVENT_IOC_DISABLE)", event, ioctls::DISABLE, 0)
}
