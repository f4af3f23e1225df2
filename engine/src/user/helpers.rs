//! The BPF helpers the user-space backend provides, over this process.
//!
//! rbpf calls helpers as plain functions of five registers, so the maps a
//! program may name are found through a per-thread registry: a map
//! argument is the address of a registered [`UserMap`], checked before use.
//! "Kernel" and "user" memory reads both read this process's memory with
//! `process_vm_readv`, which fails with EFAULT on a bad address instead of
//! faulting: a D script's wild pointer becomes an error value, as in the
//! kernel, never a crash.

use super::map::UserMap;
use d_lang::codegen::insn::helper;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

const EFAULT: u64 = (-14i64) as u64;
const EINVAL: u64 = (-22i64) as u64;
const ENOENT: u64 = (-2i64) as u64;
const E2BIG: u64 = (-7i64) as u64;
const EEXIST: u64 = (-17i64) as u64;
/// Largest buffer a helper will write: more than any program's scratch.
const MAX_COPY: u64 = 1 << 20;

thread_local! {
    static MAPS: RefCell<Vec<Rc<UserMap>>> = const { RefCell::new(Vec::new()) };
    static RAND: Cell<u64> = const { Cell::new(0) };
}

/// Make `map` nameable by programs on this thread.
pub fn register(map: &Rc<UserMap>) {
    MAPS.with(|m| m.borrow_mut().push(Rc::clone(map)));
}

/// Forget `map` (its programs are gone).
pub fn unregister(map: &Rc<UserMap>) {
    MAPS.with(|m| m.borrow_mut().retain(|x| !Rc::ptr_eq(x, map)));
}

/// The address a program uses to name `map`.
pub fn map_addr(map: &Rc<UserMap>) -> u64 {
    Rc::as_ptr(map) as u64
}

/// Run `f` on the map at `addr`; `missing` if no registered map is there.
fn with_map(addr: u64, missing: u64, f: impl FnOnce(&UserMap) -> u64) -> u64 {
    let map = MAPS.with(|m| {
        m.borrow()
            .iter()
            .find(|x| Rc::as_ptr(x) as u64 == addr)
            .cloned()
    });
    match map {
        Some(m) => f(&m),
        None => missing,
    }
}

/// Bytes at a program-supplied pointer. Programs only pass pointers to
/// their stack, scratch or map values here (code generation's own
/// addresses), so the read is in bounds.
fn bytes<'a>(ptr: u64, len: usize) -> &'a [u8] {
    // SAFETY: see above; the caller checked `ptr` is non-null.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }
}

fn map_lookup(map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    if key == 0 {
        return 0;
    }
    with_map(map, 0, |m| {
        m.lookup_ptr(bytes(key, m.key_size()))
            .map_or(0, |p| p as u64)
    })
}

fn map_update(map: u64, key: u64, value: u64, flags: u64, _: u64) -> u64 {
    if key == 0 || value == 0 {
        return EINVAL;
    }
    with_map(map, EINVAL, |m| {
        let r = m.update(
            bytes(key, m.key_size()),
            bytes(value, m.value_size()),
            flags,
        );
        errno(r)
    })
}

fn map_delete(map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    if key == 0 {
        return EINVAL;
    }
    with_map(map, EINVAL, |m| errno(m.delete(bytes(key, m.key_size()))))
}

fn errno(r: Result<(), super::map::MapError>) -> u64 {
    use super::map::MapError::*;
    match r {
        Ok(()) => 0,
        Err(Size) => EINVAL,
        Err(NoKey) => ENOENT,
        Err(Exists) => EEXIST,
        Err(Full) | Err(NoMemory) => E2BIG,
    }
}

/// Read `len` bytes of this process at `src` into `dst`; how many were read.
fn read_self(dst: *mut u8, src: u64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let local = libc::iovec {
        iov_base: dst.cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: src as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: `local` is a writable buffer of `len` bytes (the caller's);
    // the kernel checks `remote` and reports EFAULT rather than faulting.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
    n.max(0) as usize
}

/// bpf_probe_read{,_user,_kernel}(dst, size, src): all or nothing; the
/// destination is zeroed on failure.
fn probe_read(dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    if dst == 0 || size > MAX_COPY {
        return EINVAL;
    }
    let d = dst as *mut u8;
    if read_self(d, src, size as usize) == size as usize {
        return 0;
    }
    // SAFETY: `dst` is the program's buffer of `size` bytes.
    unsafe { std::ptr::write_bytes(d, 0, size as usize) };
    EFAULT
}

/// bpf_probe_read_*_str(dst, size, src): at most size - 1 bytes up to a
/// NUL, then a NUL; returns the length with the NUL. Reads page by page so
/// a string ending just before an unmapped page is still read.
fn probe_read_str(dst: u64, size: u64, src: u64, _: u64, _: u64) -> u64 {
    if dst == 0 || size == 0 || size > MAX_COPY {
        return EINVAL;
    }
    let d = dst as *mut u8;
    let max = size as usize - 1;
    let mut n = 0usize;
    while n < max {
        let addr = src.wrapping_add(n as u64);
        let to_page = 4096 - (addr as usize & 4095);
        let want = to_page.min(max - n);
        // SAFETY: n + want <= size - 1: inside the program's buffer.
        let got = read_self(unsafe { d.add(n) }, addr, want);
        // SAFETY: the bytes just read are initialised and inside the buffer.
        let chunk = unsafe { std::slice::from_raw_parts(d.add(n), got) };
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            return (n + nul + 1) as u64;
        }
        n += got;
        if got < want {
            if n == 0 {
                // SAFETY: size >= 1.
                unsafe { *d = 0 };
                return EFAULT;
            }
            break;
        }
    }
    // SAFETY: n <= size - 1.
    unsafe { *d.add(n) = 0 };
    (n + 1) as u64
}

fn ktime_get_ns(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

fn prandom_u32(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    RAND.with(|r| {
        let mut x = r.get();
        if x == 0 {
            x = ktime_get_ns(0, 0, 0, 0, 0) | 1;
        }
        // xorshift64*: the kernel's prandom is not cryptographic either.
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) & 0xffff_ffff
    })
}

fn smp_processor_id(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: sched_getcpu has no preconditions.
    unsafe { libc::sched_getcpu() }.max(0) as u64
}

fn numa_node_id(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: getcpu(2) writes two u32s through the pointers we pass; its
    // third argument (a cache) is unused and may be null.
    let r = unsafe {
        libc::syscall(
            libc::SYS_getcpu,
            &mut cpu as *mut u32,
            &mut node as *mut u32,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if r == 0 {
        u64::from(node)
    } else {
        0
    }
}

fn pid_tgid(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: getpid and gettid have no preconditions.
    let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
    (pid as u64) << 32 | tid as u64
}

fn uid_gid(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: getuid and getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    (gid as u64) << 32 | uid as u64
}

fn current_comm(buf: u64, size: u64, _: u64, _: u64, _: u64) -> u64 {
    if buf == 0 || size == 0 || size > MAX_COPY {
        return EINVAL;
    }
    let mut name = [0u8; 17];
    // SAFETY: PR_GET_NAME writes at most 16 bytes into `name`.
    unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
    let n = (size as usize).min(16);
    // SAFETY: `buf` is the program's buffer of `size` >= n bytes.
    unsafe {
        std::ptr::write_bytes(buf as *mut u8, 0, size as usize);
        std::ptr::copy_nonoverlapping(name.as_ptr(), buf as *mut u8, n.saturating_sub(1));
    }
    0
}

/// No task_struct in user space: members read through it fail (EFAULT) and read as 0.
fn current_task(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    0
}

/// No kernel or user stack to walk in the interpreter: zero frames.
fn get_stack(_ctx: u64, buf: u64, size: u64, _flags: u64, _: u64) -> u64 {
    if buf == 0 || size > MAX_COPY {
        return EINVAL;
    }
    // SAFETY: `buf` is the program's buffer of `size` bytes.
    unsafe { std::ptr::write_bytes(buf as *mut u8, 0, size as usize) };
    0
}

fn ringbuf_output(map: u64, data: u64, size: u64, _flags: u64, _: u64) -> u64 {
    if data == 0 || size > MAX_COPY {
        return EINVAL;
    }
    with_map(map, EINVAL, |m| {
        errno(m.ring_push(bytes(data, size as usize)))
    })
}

/// Every helper, by the kernel's helper number.
pub fn all() -> Vec<(u32, rbpf::ebpf::Helper)> {
    vec![
        (helper::MAP_LOOKUP_ELEM as u32, map_lookup),
        (helper::MAP_UPDATE_ELEM as u32, map_update),
        (helper::MAP_DELETE_ELEM as u32, map_delete),
        (helper::PROBE_READ as u32, probe_read),
        (helper::PROBE_READ_USER as u32, probe_read),
        (helper::PROBE_READ_KERNEL as u32, probe_read),
        (helper::PROBE_READ_STR as u32, probe_read_str),
        (helper::PROBE_READ_USER_STR as u32, probe_read_str),
        (helper::PROBE_READ_KERNEL_STR as u32, probe_read_str),
        (helper::KTIME_GET_NS as u32, ktime_get_ns),
        (helper::GET_PRANDOM_U32 as u32, prandom_u32),
        (helper::GET_SMP_PROCESSOR_ID as u32, smp_processor_id),
        (helper::GET_NUMA_NODE_ID as u32, numa_node_id),
        (helper::GET_CURRENT_PID_TGID as u32, pid_tgid),
        (helper::GET_CURRENT_UID_GID as u32, uid_gid),
        (helper::GET_CURRENT_COMM as u32, current_comm),
        (helper::GET_CURRENT_TASK as u32, current_task),
        (helper::GET_STACK as u32, get_stack),
        (helper::RINGBUF_OUTPUT as u32, ringbuf_output),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_read_of_a_bad_address_fails_and_zeroes() {
        let mut buf = [0xffu8; 16];
        let r = probe_read(buf.as_mut_ptr() as u64, 16, 8, 0, 0);
        assert_eq!(r, EFAULT);
        assert_eq!(buf, [0u8; 16]);
    }

    #[test]
    fn probe_read_str_stops_at_nul_and_truncates() {
        let src = b"hello\0world";
        let mut buf = [0xffu8; 16];
        let r = probe_read_str(buf.as_mut_ptr() as u64, 16, src.as_ptr() as u64, 0, 0);
        assert_eq!(r, 6);
        assert_eq!(&buf[..6], b"hello\0");
        let mut small = [0xffu8; 4];
        let r = probe_read_str(small.as_mut_ptr() as u64, 4, src.as_ptr() as u64, 0, 0);
        assert_eq!(r, 4);
        assert_eq!(&small, b"hel\0");
    }

    #[test]
    fn unknown_maps_are_refused() {
        let key = 0u32.to_ne_bytes();
        assert_eq!(map_lookup(0x1234, key.as_ptr() as u64, 0, 0, 0), 0);
    }
}
