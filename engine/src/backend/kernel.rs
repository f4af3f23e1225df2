//! The kernel backend: maps made with `bpf(2)`, programs the verifier
//! accepted, attached to tracepoints, timers, uprobes and trampolines,
//! records from the kernel's ring buffer.

use super::{initial_value, Attached, Backend, InstanceError, Loaded, Map, Program, Records};
use crate::attach;
use crate::ringbuf::RingBuf;
use crate::sys::bpf::{self, BpfMap, MapDef, ProgKind, UpdateFlags};
use crate::sys::perf;
use crate::sys::SysError;
use crate::target::Attachment;
use crate::tracefs::Tracefs;
use d_lang::codegen::{MapKind, Object, ProgType};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// The kernel backend.
#[derive(Debug)]
pub struct Kernel;

/// The kernel backend.
pub static KERNEL: Kernel = Kernel;

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

impl Kernel {
    fn map(spec: &d_lang::codegen::MapSpec) -> Result<BpfMap, InstanceError> {
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
        Ok(map)
    }
}

impl Backend for Kernel {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn portable(&self) -> bool {
        false
    }

    fn refused(&self) -> Option<String> {
        bpf::refused()
    }

    fn runs(&self, _: &Attachment) -> bool {
        true
    }

    /// Maps first; each program's map references are relocated to the
    /// maps' fds before the kernel verifies it.
    fn instantiate(&self, object: &Object) -> Result<Loaded, InstanceError> {
        let maps = object
            .maps
            .iter()
            .map(Kernel::map)
            .collect::<Result<Vec<_>, _>>()?;
        let mut programs: Vec<Box<dyn Program>> = Vec::new();
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
            programs.push(Box::new(KernelProgram(fd)));
        }
        Ok(Loaded {
            maps: maps
                .into_iter()
                .map(|m| Box::new(m) as Box<dyn Map>)
                .collect(),
            programs,
        })
    }
}

impl Map for BpfMap {
    fn lookup_size(&self) -> usize {
        BpfMap::lookup_size(self)
    }

    fn lookup_vec(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SysError> {
        BpfMap::lookup_vec(self, key)
    }

    fn lookup_percpu(&self, key: &[u8]) -> Result<Option<Vec<Vec<u8>>>, SysError> {
        BpfMap::lookup_percpu(self, key)
    }

    fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), SysError> {
        BpfMap::update(self, key, value, flags)
    }

    fn delete(&self, key: &[u8]) -> Result<bool, SysError> {
        BpfMap::delete(self, key)
    }

    fn keys(&self) -> Result<Vec<Vec<u8>>, SysError> {
        BpfMap::keys(self)
    }

    fn records(&self) -> Result<Box<dyn Records>, String> {
        let ring = RingBuf::new(self.as_fd()).map_err(|e| e.to_string())?;
        Ok(Box::new(ring))
    }
}

impl Records for RingBuf {
    fn poll(&mut self, wait: std::time::Duration, f: &mut dyn FnMut(&[u8])) -> Result<(), String> {
        let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
        RingBuf::poll(self, ms, f)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn drain(&mut self, f: &mut dyn FnMut(&[u8])) {
        RingBuf::drain(self, f);
    }
}

/// A program the kernel loaded.
pub struct KernelProgram(OwnedFd);

impl Program for KernelProgram {
    fn attach(
        &self,
        attachment: &Attachment,
        probe: &str,
        tracefs: Option<&Tracefs>,
    ) -> Result<Attached, String> {
        let prog = self.0.as_fd();
        let e = |e: attach::AttachError| e.to_string();
        let link = match attachment {
            Attachment::Tracepoint(ev) => {
                let tracefs = tracefs.ok_or("tracefs is not available")?;
                attach::attach_tracepoint_in(tracefs, prog, &ev.subsystem, &ev.event).map_err(e)?
            }
            Attachment::Timer {
                period_ns,
                all_cpus,
            } => {
                let cpus = attach::profile_cpus().map_err(|e| e.to_string())?;
                let cpus = if *all_cpus {
                    cpus
                } else {
                    cpus.into_iter().take(1).collect()
                };
                attach::attach_sampler(prog, &perf::Sampler::cpu_clock(*period_ns), &cpus)
                    .map_err(e)?
            }
            Attachment::Counter(sampler) => {
                let cpus = attach::profile_cpus().map_err(|e| e.to_string())?;
                attach::attach_sampler(prog, sampler, &cpus).map_err(e)?
            }
            Attachment::Pid(site) => attach::attach_uprobe(
                prog,
                &site.path,
                site.offset,
                site.ret,
                Some(site.pid as i32),
            )
            .map_err(e)?,
            Attachment::Usdt(sites) => {
                let links = sites
                    .iter()
                    .map(|site| {
                        attach::attach_uprobe_counted(
                            prog,
                            &site.probe.path,
                            site.probe.offset,
                            site.probe.semaphore,
                            false,
                            Some(site.pid as i32),
                        )
                        .map_err(e)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if links.is_empty() {
                    return Err("the probe has no site".into());
                }
                return Ok(Attached::Links(links));
            }
            Attachment::Trampoline { .. } => attach::attach_trampoline(prog, probe).map_err(e)?,
            Attachment::SelfProbe(sym) => {
                return Err(format!("{sym} is fired by the consumer, not attached"))
            }
        };
        Ok(Attached::Links(vec![link]))
    }

    fn fire(&self, args: [u64; 6]) -> Result<(), String> {
        bpf::prog_test_run(self.0.as_fd(), &args)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn kernel_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.0.as_fd())
    }
}
