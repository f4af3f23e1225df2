//! The few `bpf(2)` calls `net` makes: create a map, read and write its
//! elements, load a `tc` classifier, pin and open pinned objects, and
//! find the maps of a program already attached (by its id, as the kernel
//! lists it on a tc filter).
//!
//! A copy, not a dependency: the engine has a fuller wrapper
//! (`engine/src/sys/bpf.rs`), but platform crates never depend on the
//! tracer (DESIGN.md), and these ~250 lines are all a vNIC needs. The
//! `bpf_attr` prefixes below follow the kernel's uapi `union bpf_attr`.

use crate::error::{Errno, NetError, Result};
use std::ffi::CString;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const BPF_MAP_CREATE: i32 = 0;
const BPF_MAP_LOOKUP_ELEM: i32 = 1;
const BPF_MAP_UPDATE_ELEM: i32 = 2;
const BPF_MAP_DELETE_ELEM: i32 = 3;
const BPF_MAP_GET_NEXT_KEY: i32 = 4;
const BPF_PROG_LOAD: i32 = 5;
const BPF_OBJ_PIN: i32 = 6;
const BPF_OBJ_GET: i32 = 7;
const BPF_PROG_GET_FD_BY_ID: i32 = 13;
const BPF_MAP_GET_FD_BY_ID: i32 = 14;
const BPF_OBJ_GET_INFO_BY_FD: i32 = 15;

/// `BPF_MAP_TYPE_HASH`.
pub const MAP_HASH: u32 = 1;
/// `BPF_MAP_TYPE_PERCPU_ARRAY`.
pub const MAP_PERCPU_ARRAY: u32 = 6;
/// `BPF_PROG_TYPE_SCHED_CLS`: a tc classifier.
pub const PROG_SCHED_CLS: u32 = 3;

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
    map_name: [u8; 16],
}

#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

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
    prog_name: [u8; 16],
}

#[repr(C)]
#[derive(Default)]
struct ObjPinAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetIdAttr {
    id: u32,
    next_id: u32,
    open_flags: u32,
}

#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// The head of `struct bpf_prog_info` through `map_ids` (offsets 0–56).
#[repr(C)]
#[derive(Default)]
struct ProgInfo {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
}

const _: () = {
    assert!(size_of::<MapCreateAttr>() == 44);
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(size_of::<ProgLoadAttr>() == 64);
    assert!(std::mem::offset_of!(ProgInfo, nr_map_ids) == 52);
    assert!(std::mem::offset_of!(ProgInfo, map_ids) == 56);
};

fn sys_bpf<T>(call: &str, cmd: i32, attr: &mut T) -> Result<i64> {
    // SAFETY: `attr` is a live #[repr(C)] prefix of `union bpf_attr` for
    // `cmd`, its size is passed, and every pointer in it was set by the
    // callers below from live buffers of the sizes the kernel uses.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size_of::<T>() as u32) };
    if r < 0 {
        Err(NetError::last_os(format!("bpf({call})")))
    } else {
        Ok(r)
    }
}

fn fd(r: i64) -> OwnedFd {
    // SAFETY: the kernel returned a new descriptor that nobody else owns.
    unsafe { OwnedFd::from_raw_fd(r as i32) }
}

fn obj_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (d, b) in out.iter_mut().zip(name.bytes().take(15)) {
        *d = if b.is_ascii_alphanumeric() || b == b'_' {
            b
        } else {
            b'_'
        };
    }
    out
}

/// A map and the sizes its elements are checked against.
#[derive(Debug)]
pub struct Map {
    fd: OwnedFd,
    key_size: usize,
    value_size: usize,
    percpu: bool,
}

impl Map {
    /// `BPF_MAP_CREATE`.
    pub fn create(
        kind: u32,
        key_size: u32,
        value_size: u32,
        entries: u32,
        name: &str,
    ) -> Result<Map> {
        let mut a = MapCreateAttr {
            map_type: kind,
            key_size,
            value_size,
            max_entries: entries,
            map_name: obj_name(name),
            ..Default::default()
        };
        let r = sys_bpf("BPF_MAP_CREATE", BPF_MAP_CREATE, &mut a)?;
        Ok(Map {
            fd: fd(r),
            key_size: key_size as usize,
            value_size: value_size as usize,
            percpu: kind == MAP_PERCPU_ARRAY,
        })
    }

    /// A map by descriptor, with the sizes it was created with.
    pub fn from_fd(fd: OwnedFd, key_size: usize, value_size: usize, percpu: bool) -> Map {
        Map {
            fd,
            key_size,
            value_size,
            percpu,
        }
    }

    /// Its descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.fd.as_fd()
    }

    /// The value at `key` (every CPU's, one after another, for a per-CPU
    /// map), or `None`.
    pub fn lookup(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if key.len() != self.key_size {
            return Err(NetError::bad(
                "key",
                format!("{} bytes", key.len()),
                "is the wrong size for this map",
            ));
        }
        let n = if self.percpu {
            self.value_size.next_multiple_of(8) * possible_cpus()
        } else {
            self.value_size
        };
        let mut v = vec![0u8; n];
        let mut a = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value: v.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf("BPF_MAP_LOOKUP_ELEM", BPF_MAP_LOOKUP_ELEM, &mut a) {
            Ok(_) => Ok(Some(v)),
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Set `key` to `value` (not per-CPU maps).
    pub fn update(&self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() != self.key_size || value.len() != self.value_size || self.percpu {
            return Err(NetError::bad(
                "value",
                format!("{} bytes", value.len()),
                "is the wrong size for this map",
            ));
        }
        let mut a = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value: value.as_ptr() as u64,
            ..Default::default()
        };
        sys_bpf("BPF_MAP_UPDATE_ELEM", BPF_MAP_UPDATE_ELEM, &mut a).map(|_| ())
    }

    /// Remove `key` (no error if it was not there).
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        let mut a = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf("BPF_MAP_DELETE_ELEM", BPF_MAP_DELETE_ELEM, &mut a) {
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
            r => r.map(|_| ()),
        }
    }

    /// Every key.
    pub fn keys(&self) -> Result<Vec<Vec<u8>>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut next = vec![0u8; self.key_size];
            let mut a = MapElemAttr {
                map_fd: self.fd.as_raw_fd() as u32,
                key: out.last().map_or(0, |k| k.as_ptr() as u64),
                value: next.as_mut_ptr() as u64,
                ..Default::default()
            };
            match sys_bpf("BPF_MAP_GET_NEXT_KEY", BPF_MAP_GET_NEXT_KEY, &mut a) {
                Ok(_) => out.push(next),
                Err(e) if e.errno() == Some(libc::ENOENT) => return Ok(out),
                Err(e) => return Err(e),
            }
            if out.len() > 1 << 20 {
                return Ok(out);
            }
        }
    }

    /// Pin the map at `path` on a bpf filesystem.
    pub fn pin(&self, path: &str) -> Result<()> {
        let c = CString::new(path).map_err(|_| NetError::bad("path", path, "holds a NUL byte"))?;
        let mut a = ObjPinAttr {
            pathname: c.as_ptr() as u64,
            bpf_fd: self.fd.as_raw_fd() as u32,
            ..Default::default()
        };
        sys_bpf(&format!("BPF_OBJ_PIN {path}"), BPF_OBJ_PIN, &mut a).map(|_| ())
    }
}

/// Open the object pinned at `path`.
pub fn obj_get(path: &str) -> Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| NetError::bad("path", path, "holds a NUL byte"))?;
    let mut a = ObjPinAttr {
        pathname: c.as_ptr() as u64,
        ..Default::default()
    };
    sys_bpf(&format!("BPF_OBJ_GET {path}"), BPF_OBJ_GET, &mut a).map(fd)
}

/// Load a program of type `kind`: the verifier's log comes back with
/// its refusal.
pub fn prog_load(
    kind: u32,
    name: &str,
    insns: &[u64],
) -> std::result::Result<OwnedFd, (Errno, String)> {
    const LICENSE: &[u8] = b"MPL-2.0\0";
    let mut log = vec![0u8; 1 << 16];
    let mut a = ProgLoadAttr {
        prog_type: kind,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        prog_name: obj_name(name),
        ..Default::default()
    };
    match sys_bpf("BPF_PROG_LOAD", BPF_PROG_LOAD, &mut a) {
        Ok(r) => Ok(fd(r)),
        Err(e) => {
            let errno = Errno(e.errno().unwrap_or(0));
            // Again with the log, only to say why.
            a.log_level = 1;
            a.log_size = log.len() as u32;
            a.log_buf = log.as_mut_ptr() as u64;
            let _ = sys_bpf("BPF_PROG_LOAD", BPF_PROG_LOAD, &mut a);
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            Err((errno, String::from_utf8_lossy(&log[..end]).into_owned()))
        }
    }
}

const BPF_PROG_TEST_RUN: i32 = 10;

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
}

/// Run program `prog` `repeat` times on frame `data` in the kernel
/// (`BPF_PROG_TEST_RUN`): its verdict and the mean nanoseconds a run.
pub fn test_run(prog: BorrowedFd<'_>, data: &[u8], repeat: u32) -> Result<(u32, u32)> {
    let mut a = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: data.len() as u32,
        data_in: data.as_ptr() as u64,
        repeat,
        ..Default::default()
    };
    sys_bpf("BPF_PROG_TEST_RUN", BPF_PROG_TEST_RUN, &mut a)?;
    Ok((a.retval, a.duration))
}

/// The ids of the maps program `prog_id` uses.
pub fn prog_map_ids(prog_id: u32) -> Result<Vec<u32>> {
    let mut a = GetIdAttr {
        id: prog_id,
        ..Default::default()
    };
    let prog = fd(sys_bpf(
        "BPF_PROG_GET_FD_BY_ID",
        BPF_PROG_GET_FD_BY_ID,
        &mut a,
    )?);
    let mut ids = vec![0u32; 16];
    let mut info = ProgInfo {
        nr_map_ids: ids.len() as u32,
        map_ids: ids.as_mut_ptr() as u64,
        ..Default::default()
    };
    let mut a = InfoAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: size_of::<ProgInfo>() as u32,
        info: &mut info as *mut ProgInfo as u64,
    };
    sys_bpf("BPF_OBJ_GET_INFO_BY_FD", BPF_OBJ_GET_INFO_BY_FD, &mut a)?;
    ids.truncate((info.nr_map_ids as usize).min(16));
    Ok(ids)
}

/// Open map `id`.
pub fn map_by_id(id: u32) -> Result<OwnedFd> {
    let mut a = GetIdAttr {
        id,
        ..Default::default()
    };
    sys_bpf("BPF_MAP_GET_FD_BY_ID", BPF_MAP_GET_FD_BY_ID, &mut a).map(fd)
}

/// How many values a per-CPU lookup returns.
pub fn possible_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| {
            s.trim()
                .split(',')
                .filter_map(|r| r.rsplit('-').next()?.parse::<usize>().ok())
                .max()
        })
        .map_or(1, |m| m + 1)
}
