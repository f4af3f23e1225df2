//! One compiled [`Object`] made real: its maps created and filled, its
//! programs relocated and loaded (not yet attached).

use super::map::Map;
use crate::sys::bpf::{self, BpfMap, MapDef, ProgKind, UpdateFlags};
use crate::user::{self, map::UserMap, UserProgram};
use d_lang::codegen::{MapKind, MapRole, Object, ProgType};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;

/// Where programs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Loaded into the kernel with `bpf(2)`.
    Kernel,
    /// Interpreted in this process by rbpf ([`crate::user`]).
    User,
}

/// A loaded program.
pub enum Program {
    /// A kernel program's fd.
    Kernel(OwnedFd),
    /// A user-space program.
    User(UserProgram),
}

/// Why an object could not be instantiated.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// A map could not be created or filled.
    #[error("failed to create map {name}: {source}")]
    Map {
        /// The map's name.
        name: String,
        /// The failing call.
        source: crate::sys::SysError,
    },
    /// A user-space map could not be made.
    #[error("failed to create map {name}: {source}")]
    UserMap {
        /// The map's name.
        name: String,
        /// Why.
        source: user::map::MapError,
    },
    /// A program could not be prepared for the user-space backend.
    #[error("failed to prepare the program for {probe}: {source}")]
    UserLoad {
        /// Probe the program was for.
        probe: String,
        /// Why.
        source: user::UserError,
    },
    /// The verifier (or kernel) refused a program.
    #[error("failed to load the program for {probe} (clause {clause}): {source}")]
    Load {
        /// Probe the program was for.
        probe: String,
        /// 1-based clause number of its first clause.
        clause: usize,
        /// The refusal with the verifier log.
        source: bpf::ProgLoadError,
    },
}

/// Maps and loaded programs of one object.
pub struct Instance {
    /// The object (record and aggregation descriptions).
    pub object: Object,
    /// Maps, by the object's map index.
    pub maps: Vec<Map>,
    /// Programs, by the object's program index.
    pub programs: Vec<Program>,
    /// Where they run.
    pub backend: Backend,
}

fn map_kind(k: MapKind) -> bpf::MapKind {
    match k {
        MapKind::Hash => bpf::MapKind::Hash,
        MapKind::Array => bpf::MapKind::Array,
        MapKind::PercpuHash => bpf::MapKind::PercpuHash,
        MapKind::PercpuArray => bpf::MapKind::PercpuArray,
        MapKind::Ringbuf => bpf::MapKind::RingBuf,
        MapKind::LruHash => bpf::MapKind::LruHash,
    }
}

/// The program kind the kernel loads for a target's program type.
pub fn prog_kind(t: ProgType) -> ProgKind {
    match t {
        ProgType::Tracepoint => ProgKind::Tracepoint,
        ProgType::PerfEvent => ProgKind::PerfEvent,
        ProgType::Uprobe => ProgKind::Kprobe,
        ProgType::RawTracepoint => ProgKind::RawTracepoint,
        ProgType::Trampoline { btf_id, ret } => ProgKind::Trampoline { btf_id, ret },
    }
}

/// Nanoseconds to add to `CLOCK_MONOTONIC` (what `bpf_ktime_get_ns` reads)
/// to get wall-clock time, for `walltimestamp`.
fn wall_offset() -> i64 {
    let read = |clock| {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    };
    read(libc::CLOCK_REALTIME) - read(libc::CLOCK_MONOTONIC)
}

/// Entry 0 of the strings map, or of the globals map (whose first word is
/// the wall-clock offset), as it must be before any program runs.
fn initial_value(role: &MapRole, initial: Option<&Vec<u8>>, size: usize) -> Option<Vec<u8>> {
    match role {
        MapRole::Strings => {
            let mut value = initial.cloned().unwrap_or_default();
            value.resize(size, 0);
            Some(value)
        }
        MapRole::Globals => {
            let mut value = vec![0u8; size.max(8)];
            value[..8].copy_from_slice(&wall_offset().to_ne_bytes());
            value.truncate(size);
            Some(value)
        }
        _ => None,
    }
}

impl Instance {
    /// Make the object real on `backend`.
    pub fn with_backend(object: Object, backend: Backend) -> Result<Instance, InstanceError> {
        match backend {
            Backend::Kernel => Instance::new(object),
            Backend::User => Instance::user(object),
        }
    }

    /// Emulated maps and interpreted programs ([`crate::user`]).
    pub fn user(object: Object) -> Result<Instance, InstanceError> {
        let mut maps = Vec::new();
        for spec in &object.maps {
            let err = |source| InstanceError::UserMap {
                name: spec.name.clone(),
                source,
            };
            let map = Rc::new(
                UserMap::new(spec.kind, spec.key_size, spec.value_size, spec.max_entries)
                    .map_err(err)?,
            );
            if let Some(v) = initial_value(&spec.role, spec.initial.as_ref(), map.value_size()) {
                map.update(&0u32.to_ne_bytes(), &v, user::map::ANY)
                    .map_err(err)?;
            }
            user::helpers::register(&map);
            maps.push(map);
        }
        let mut programs = Vec::new();
        for p in &object.programs {
            let prog = UserProgram::new(p, &maps).map_err(|source| InstanceError::UserLoad {
                probe: p.probe.full_name(),
                source,
            })?;
            programs.push(Program::User(prog));
        }
        Ok(Instance {
            object,
            maps: maps.into_iter().map(Map::User).collect(),
            programs,
            backend: Backend::User,
        })
    }

    /// Create the maps, fill the constant ones, relocate and load every program.
    pub fn new(object: Object) -> Result<Instance, InstanceError> {
        let mut maps = Vec::new();
        for spec in &object.maps {
            let def = MapDef {
                kind: map_kind(spec.kind),
                key_size: spec.key_size,
                value_size: spec.value_size,
                max_entries: spec.max_entries,
                flags: if spec.lazy { 1 } else { 0 }, // BPF_F_NO_PREALLOC
                name: spec.name.clone(),
            };
            let err = |source| InstanceError::Map {
                name: spec.name.clone(),
                source,
            };
            let map = match &spec.pinned {
                Some(path) => BpfMap::open_pinned(path, &def).map_err(err)?,
                None => BpfMap::create(&def).map_err(err)?,
            };
            if let Some(v) = initial_value(&spec.role, spec.initial.as_ref(), map.lookup_size()) {
                map.update(&0u32.to_ne_bytes(), &v, UpdateFlags::Any)
                    .map_err(err)?;
            }
            maps.push(map);
        }
        let mut programs = Vec::new();
        for p in &object.programs {
            let mut insns = p.insns.clone();
            for r in &p.relocs {
                if let (Some(insn), Some(map)) = (insns.get_mut(r.insn), maps.get(r.map)) {
                    insn.imm = map.as_fd().as_raw_fd();
                }
            }
            let raw: Vec<u64> = insns
                .iter()
                .map(|i| u64::from_le_bytes(i.to_bytes()))
                .collect();
            let name = format!("lumen_{}", p.epids.first().copied().unwrap_or(0));
            let fd = bpf::prog_load(prog_kind(p.prog_type), &name, &raw).map_err(|source| {
                let clause = p
                    .epids
                    .first()
                    .and_then(|e| object.enablings.get(*e as usize - 1))
                    .map_or(0, |e| e.clause + 1);
                InstanceError::Load {
                    probe: p.probe.full_name(),
                    clause,
                    source,
                }
            })?;
            programs.push(Program::Kernel(fd));
        }
        Ok(Instance {
            object,
            maps: maps.into_iter().map(Map::Kernel).collect(),
            programs,
            backend: Backend::Kernel,
        })
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        for m in &self.maps {
            if let Map::User(m) = m {
                user::helpers::unregister(m);
            }
        }
    }
}
