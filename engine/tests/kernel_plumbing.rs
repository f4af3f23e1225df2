//! The kernel plumbing on the live kernel, with hand-assembled programs:
//! maps, program load (and the verifier log of a refused one), tracepoint,
//! raw tracepoint, cpu-clock and uprobe attachment, and the ring buffer.
//!
//! Needs root and BPF. Without them each test says why and returns, except
//! under `CI=true`, where it fails: CI must never pass by skipping.

use engine::attach::{
    attach_raw_tracepoint, attach_sampler, attach_tracepoint, attach_uprobe, profile_cpus,
};
use engine::load::{
    create_map, load_program, BpfMap, LoadError, MapDef, MapKind, ProgKind, UpdateFlags,
};
use engine::ringbuf::RingBuf;
use engine::selfprobe::{lumen_dtrace_begin, lumen_dtrace_end, SelfProbe, SELF_EXE};
use engine::sys::perf::Sampler;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// A tiny eBPF encoder: just what these tests need.
mod asm {
    pub const R0: u8 = 0;
    pub const R1: u8 = 1;
    pub const R2: u8 = 2;
    pub const R3: u8 = 3;
    pub const R4: u8 = 4;
    pub const R6: u8 = 6;
    pub const R10: u8 = 10;

    pub fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
        u64::from(code)
            | u64::from(dst & 0xf) << 8
            | u64::from(src & 0xf) << 12
            | u64::from(off as u16) << 16
            | u64::from(imm as u32) << 32
    }
    /// `dst = imm` (64-bit).
    pub fn mov_imm(dst: u8, imm: i32) -> u64 {
        insn(0xb7, dst, 0, 0, imm)
    }
    /// `dst = src`.
    pub fn mov_reg(dst: u8, src: u8) -> u64 {
        insn(0xbf, dst, src, 0, 0)
    }
    /// `dst += imm`.
    pub fn add_imm(dst: u8, imm: i32) -> u64 {
        insn(0x07, dst, 0, 0, imm)
    }
    /// `dst = imm64` (two instructions).
    pub fn ld_imm64(dst: u8, imm: u64) -> [u64; 2] {
        [
            insn(0x18, dst, 0, 0, imm as u32 as i32),
            insn(0, 0, 0, 0, (imm >> 32) as u32 as i32),
        ]
    }
    /// `dst = map fd` (`BPF_PSEUDO_MAP_FD`).
    pub fn ld_map_fd(dst: u8, fd: i32) -> [u64; 2] {
        [insn(0x18, dst, 1, 0, fd), 0]
    }
    /// `*(u32 *)(dst + off) = imm`.
    pub fn st_w(dst: u8, off: i16, imm: i32) -> u64 {
        insn(0x62, dst, 0, off, imm)
    }
    /// `*(u64 *)(dst + off) = src`.
    pub fn stx_dw(dst: u8, off: i16, src: u8) -> u64 {
        insn(0x7b, dst, src, off, 0)
    }
    /// `dst = *(u64 *)(src + off)`.
    pub fn ldx_dw(dst: u8, src: u8, off: i16) -> u64 {
        insn(0x79, dst, src, off, 0)
    }
    /// `lock *(u64 *)(dst + off) += src`.
    pub fn atomic_add_dw(dst: u8, off: i16, src: u8) -> u64 {
        insn(0xdb, dst, src, off, 0)
    }
    /// `if dst == imm goto +off`.
    pub fn jeq_imm(dst: u8, imm: i32, off: i16) -> u64 {
        insn(0x15, dst, 0, off, imm)
    }
    /// `if dst != imm goto +off`.
    pub fn jne_imm(dst: u8, imm: i32, off: i16) -> u64 {
        insn(0x55, dst, 0, off, imm)
    }
    /// `if dst != src goto +off`.
    pub fn jne_reg(dst: u8, src: u8, off: i16) -> u64 {
        insn(0x5d, dst, src, off, 0)
    }
    /// `call helper`.
    pub fn call(helper: i32) -> u64 {
        insn(0x85, 0, 0, 0, helper)
    }
    pub fn exit() -> u64 {
        insn(0x95, 0, 0, 0, 0)
    }

    pub const MAP_LOOKUP_ELEM: i32 = 1;
    pub const GET_CURRENT_PID_TGID: i32 = 14;
    pub const RINGBUF_OUTPUT: i32 = 130;
}

use asm::*;

/// Whether the kernel tests can run; under `CI=true`, a reason not to is a failure.
fn kernel_ready(test: &str) -> bool {
    let why = if unsafe { libc::geteuid() } != 0 {
        Some("not root".to_string())
    } else {
        match BpfMap::create(&array_def("probe", 8)) {
            Ok(_) => None,
            Err(e) => Some(format!("BPF unavailable: {e}")),
        }
    };
    match why {
        None => true,
        Some(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: cannot run kernel test under CI=true: {why}")
        }
        Some(why) => {
            eprintln!("{test}: skipped: {why}");
            false
        }
    }
}

fn array_def(name: &str, value_size: u32) -> MapDef {
    MapDef {
        kind: MapKind::Array,
        key_size: 4,
        value_size,
        max_entries: 1,
        flags: 0,
        name: name.into(),
    }
}

/// The counter in slot 0 of a one-entry u64 array.
fn counter(map: &BpfMap) -> u64 {
    let v = map.lookup_vec(&0u32.to_ne_bytes()).unwrap().unwrap();
    u64::from_ne_bytes(v[..8].try_into().unwrap())
}

/// `bpf_get_current_pid_tgid()` of the calling thread: tgid << 32 | tid.
fn my_pid_tgid() -> u64 {
    let tgid = std::process::id() as u64;
    let tid = unsafe { libc::gettid() } as u64;
    tgid << 32 | tid
}

fn getpid_syscall() {
    unsafe { libc::syscall(libc::SYS_getpid) };
}

/// `map[0] += 1` with a null-checked lookup, then `return 0`.
fn increment_slot0(map: &BpfMap) -> Vec<u64> {
    let mut p = vec![st_w(R10, -4, 0), mov_reg(R2, R10), add_imm(R2, -4)];
    p.extend(ld_map_fd(R1, map.as_fd().as_raw_fd()));
    p.extend([
        call(MAP_LOOKUP_ELEM),
        jeq_imm(R0, 0, 2),
        mov_imm(R1, 1),
        atomic_add_dw(R0, 0, R1),
        mov_imm(R0, 0),
        exit(),
    ]);
    p
}

/// Skip the rest (a program ending in `increment_slot0`'s body) unless the
/// current thread is `pid_tgid`.
fn only_thread(pid_tgid: u64, rest: Vec<u64>) -> Vec<u64> {
    let mut p = vec![call(GET_CURRENT_PID_TGID)];
    p.extend(ld_imm64(R1, pid_tgid));
    // Jump to the final `r0 = 0; exit` of `rest`.
    p.push(jne_reg(R0, R1, (rest.len() - 2) as i16));
    p.extend(rest);
    p
}

#[test]
fn tracepoint_counts_exactly_n_getpid_calls_of_this_thread() {
    if !kernel_ready("tracepoint") {
        return;
    }
    let start = Instant::now();
    let map = create_map(&array_def("getpid_count", 8)).unwrap();
    let map_time = start.elapsed();
    let prog = load_program(
        ProgKind::Tracepoint,
        "count_getpid",
        &only_thread(my_pid_tgid(), increment_slot0(&map)),
    )
    .unwrap();
    let start = Instant::now();
    let link = attach_tracepoint(prog.as_fd(), "syscalls", "sys_enter_getpid").unwrap();
    let attach_time = start.elapsed();
    eprintln!(
        "map create {map_time:?}, prog load {:?} ({} insns), tracepoint attach {attach_time:?}",
        prog.load_time(),
        prog.insn_count()
    );
    const N: u64 = 1000;
    for _ in 0..N {
        getpid_syscall();
    }
    assert_eq!(counter(&map), N);
    drop(link);
    getpid_syscall();
    assert_eq!(
        counter(&map),
        N,
        "the program still ran after its link was dropped"
    );
}

#[test]
fn raw_tracepoint_sys_enter_counts_getpid_by_syscall_number() {
    if !kernel_ready("raw tracepoint") {
        return;
    }
    let map = create_map(&array_def("raw_count", 8)).unwrap();
    // ctx = u64 args[]: args[1] is the syscall number.
    let body = increment_slot0(&map);
    let mut p = vec![mov_reg(R6, R1), ldx_dw(R2, R6, 8)];
    p.push(jne_imm(
        R2,
        libc::SYS_getpid as i32,
        (body.len() - 2 + 4) as i16,
    ));
    p.extend(only_thread(my_pid_tgid(), body));
    let prog = load_program(ProgKind::RawTracepoint, "raw_getpid", &p).unwrap();
    let link = attach_raw_tracepoint(prog.as_fd(), "sys_enter").unwrap();
    for _ in 0..250 {
        getpid_syscall();
        unsafe { libc::getuid() };
    }
    assert_eq!(counter(&map), 250);
    drop(link);
}

#[test]
fn ringbuf_delivers_one_record_per_getpid_call() {
    if !kernel_ready("ringbuf") {
        return;
    }
    let ring = create_map(&MapDef {
        kind: MapKind::RingBuf,
        key_size: 0,
        value_size: 0,
        max_entries: 64 * 1024,
        flags: 0,
        name: "records".into(),
    })
    .unwrap();
    // A writer thread calls getpid N times after we are asleep in poll().
    const N: usize = 100;
    let (id_tx, id_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        id_tx.send(my_pid_tgid()).unwrap();
        go_rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        for _ in 0..N {
            getpid_syscall();
        }
    });
    let writer_id = id_rx.recv().unwrap();

    // if (pid_tgid == writer) bpf_ringbuf_output(&records, &pid_tgid, 8, 0)
    let mut p = vec![call(GET_CURRENT_PID_TGID), mov_reg(R6, R0)];
    p.extend(ld_imm64(R1, writer_id));
    let mut rest = vec![stx_dw(R10, -8, R6)];
    rest.extend(ld_map_fd(R1, ring.as_fd().as_raw_fd()));
    rest.extend([
        mov_reg(R2, R10),
        add_imm(R2, -8),
        mov_imm(R3, 8),
        mov_imm(R4, 0),
        call(RINGBUF_OUTPUT),
        mov_imm(R0, 0),
        exit(),
    ]);
    p.push(jne_reg(R6, R1, (rest.len() - 2) as i16));
    p.extend(rest);
    let prog = load_program(ProgKind::Tracepoint, "rb_getpid", &p).unwrap();
    let mut reader = RingBuf::new(ring.as_fd()).unwrap();
    let _link = attach_tracepoint(prog.as_fd(), "syscalls", "sys_enter_getpid").unwrap();
    assert_eq!(
        reader.poll(0, |_| {}).unwrap(),
        0,
        "records before any call"
    );

    go_tx.send(()).unwrap();
    let start = Instant::now();
    let mut records = Vec::new();
    let first = reader
        .poll(5000, |r| {
            records.push(u64::from_ne_bytes(r.try_into().unwrap()))
        })
        .unwrap();
    let woke = start.elapsed();
    assert!(
        first > 0 && woke < Duration::from_secs(2),
        "woke after {woke:?} with {first}"
    );
    writer.join().unwrap();
    reader.drain(|r| records.push(u64::from_ne_bytes(r.try_into().unwrap())));
    assert_eq!(records.len(), N);
    assert!(records.iter().all(|&r| r == writer_id));
    eprintln!("ringbuf: woke after {woke:?}");
}

#[test]
fn cpu_clock_program_fires_on_every_cpu() {
    if !kernel_ready("cpu-clock") {
        return;
    }
    let map = create_map(&array_def("ticks", 8)).unwrap();
    let prog = load_program(ProgKind::PerfEvent, "profile", &increment_slot0(&map)).unwrap();
    let cpus = profile_cpus().unwrap();
    let start = Instant::now();
    let link = attach_sampler(prog.as_fd(), &Sampler::cpu_clock(1_000_000), &cpus).unwrap();
    eprintln!(
        "cpu-clock attach on {} CPUs: {:?}",
        cpus.len(),
        start.elapsed()
    );
    assert_eq!(link.attachments(), cpus.len());
    let spin = Instant::now();
    let mut x = 0u64;
    while spin.elapsed() < Duration::from_millis(50) {
        x = std::hint::black_box(x.wrapping_add(1));
    }
    let fired = counter(&map);
    assert!(fired > 0, "cpu-clock program never fired");
    drop(link);
    std::thread::sleep(Duration::from_millis(20));
    let after = counter(&map);
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(
        counter(&map),
        after,
        "still firing after the link was dropped"
    );
}

#[test]
fn uprobe_on_lumen_dtrace_begin_counts_three_calls() {
    if !kernel_ready("uprobe") {
        return;
    }
    let map = create_map(&array_def("begin_count", 8)).unwrap();
    let prog = load_program(ProgKind::Kprobe, "begin", &increment_slot0(&map)).unwrap();
    let start = Instant::now();
    let link = SelfProbe::Begin.attach(prog.as_fd()).unwrap();
    eprintln!("uprobe attach: {:?}", start.elapsed());
    for i in 0..3 {
        lumen_dtrace_begin(i);
    }
    assert_eq!(counter(&map), 3);
    drop(link);
    lumen_dtrace_begin(9);
    assert_eq!(counter(&map), 3);
}

#[test]
fn uretprobe_on_lumen_dtrace_end_fires_on_return() {
    if !kernel_ready("uretprobe") {
        return;
    }
    let map = create_map(&array_def("end_count", 8)).unwrap();
    let prog = load_program(ProgKind::Kprobe, "end_ret", &increment_slot0(&map)).unwrap();
    let offset = SelfProbe::End.offset().unwrap();
    let pid = Some(std::process::id() as i32);
    let _link = attach_uprobe(prog.as_fd(), Path::new(SELF_EXE), offset, true, pid).unwrap();
    lumen_dtrace_end(1);
    lumen_dtrace_end(2);
    assert_eq!(counter(&map), 2);
}

#[test]
fn verifier_rejection_carries_the_log() {
    if !kernel_ready("verifier") {
        return;
    }
    let map = create_map(&MapDef {
        kind: MapKind::Hash,
        key_size: 4,
        value_size: 8,
        max_entries: 4,
        flags: 0,
        name: "unchecked".into(),
    })
    .unwrap();
    // The lookup result is dereferenced without a null check (a hash map:
    // the verifier knows constant in-bounds array lookups never fail).
    let mut p = vec![st_w(R10, -4, 0), mov_reg(R2, R10), add_imm(R2, -4)];
    p.extend(ld_map_fd(R1, map.as_fd().as_raw_fd()));
    p.extend([
        call(MAP_LOOKUP_ELEM),
        ldx_dw(R1, R0, 0),
        mov_imm(R0, 0),
        exit(),
    ]);
    let err = load_program(ProgKind::Tracepoint, "bad", &p).unwrap_err();
    let LoadError::Verifier { ref source, .. } = err else {
        panic!("not a verifier error: {err}");
    };
    assert_eq!(source.error.raw_errno(), libc::EACCES, "{err}");
    let log = err.verifier_log().unwrap();
    assert!(log.contains("map_value_or_null"), "log: {log}");
    assert!(
        err.to_string()
            .starts_with("cannot load program bad: bpf(BPF_PROG_LOAD) failed"),
        "{err}"
    );
}

#[test]
fn maps_update_lookup_delete_and_iterate_from_userspace() {
    if !kernel_ready("maps") {
        return;
    }
    let hash = create_map(&MapDef {
        kind: MapKind::Hash,
        key_size: 8,
        value_size: 4,
        max_entries: 16,
        flags: 0,
        name: "h".into(),
    })
    .unwrap();
    for k in 1u64..=3 {
        hash.update(
            &k.to_ne_bytes(),
            &(k as u32 * 10).to_ne_bytes(),
            UpdateFlags::NoExist,
        )
        .unwrap();
    }
    let dup = hash
        .update(&1u64.to_ne_bytes(), &[0; 4], UpdateFlags::NoExist)
        .unwrap_err();
    assert_eq!(dup.raw_errno(), libc::EEXIST);
    assert_eq!(
        hash.lookup_vec(&2u64.to_ne_bytes()).unwrap(),
        Some(20u32.to_ne_bytes().to_vec())
    );
    let mut keys: Vec<u64> = hash
        .keys()
        .unwrap()
        .iter()
        .map(|k| u64::from_ne_bytes(k[..].try_into().unwrap()))
        .collect();
    keys.sort();
    assert_eq!(keys, [1, 2, 3]);
    assert!(hash.delete(&2u64.to_ne_bytes()).unwrap());
    assert!(!hash.delete(&2u64.to_ne_bytes()).unwrap());
    assert_eq!(hash.lookup_vec(&2u64.to_ne_bytes()).unwrap(), None);
    // Wrong key size is refused before the kernel sees it.
    assert_eq!(
        hash.lookup_vec(&[0; 4]).unwrap_err().raw_errno(),
        libc::EINVAL
    );

    let percpu = create_map(&MapDef {
        kind: MapKind::PercpuArray,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        flags: 0,
        name: "pc".into(),
    })
    .unwrap();
    let ncpu = engine::sys::bpf::possible_cpu_count();
    assert_eq!(percpu.lookup_size(), 8 * ncpu);
    let mut all = vec![0u8; percpu.lookup_size()];
    for cpu in 0..ncpu {
        all[cpu * 8..cpu * 8 + 4].copy_from_slice(&(cpu as u32 + 7).to_ne_bytes());
    }
    percpu
        .update(&0u32.to_ne_bytes(), &all, UpdateFlags::Any)
        .unwrap();
    let slots = percpu.lookup_percpu(&0u32.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(slots.len(), ncpu);
    for (cpu, slot) in slots.iter().enumerate() {
        assert_eq!(slot[..], (cpu as u32 + 7).to_ne_bytes());
    }

    let percpu_hash = create_map(&MapDef {
        kind: MapKind::PercpuHash,
        key_size: 8,
        value_size: 8,
        max_entries: 8,
        flags: 0,
        name: "pch".into(),
    })
    .unwrap();
    assert_eq!(
        percpu_hash.lookup_percpu(&5u64.to_ne_bytes()).unwrap(),
        None
    );
}

#[test]
fn injected_fault_reaches_the_caller_as_a_named_error() {
    engine::sys::inject_fault("perf_event_open", libc::EMFILE);
    let err = engine::sys::perf::open_sampler(&Sampler::cpu_clock(1_000_000), 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "perf_event_open failed: Too many open files"
    );
}

#[test]
fn detach_all_detaches_every_link_at_once() {
    if !kernel_ready("detach_all") {
        return;
    }
    let map = create_map(&array_def("detach", 8)).unwrap();
    let me = my_pid_tgid();
    let prog = load_program(
        ProgKind::Tracepoint,
        "detach",
        &only_thread(me, increment_slot0(&map)),
    )
    .unwrap();
    let names = [
        "sys_enter_getpid",
        "sys_enter_getuid",
        "sys_enter_getgid",
        "sys_enter_geteuid",
    ];
    let start = Instant::now();
    let links: Vec<_> = names
        .iter()
        .map(|n| attach_tracepoint(prog.as_fd(), "syscalls", n).unwrap())
        .collect();
    let attached = start.elapsed();
    let calls = || unsafe {
        libc::syscall(libc::SYS_getpid);
        libc::syscall(libc::SYS_getuid);
        libc::syscall(libc::SYS_getgid);
        libc::syscall(libc::SYS_geteuid);
    };
    calls();
    assert_eq!(counter(&map), 4);
    let start = Instant::now();
    engine::attach::detach_all(links);
    eprintln!(
        "{} tracepoints: attach {attached:?}, detach_all {:?}",
        names.len(),
        start.elapsed()
    );
    calls();
    assert_eq!(counter(&map), 4);
}
