//! Built-in variables: `pid`, `execname`, `zonename`… read from the task, the probe or the context.

use super::{Lower, R};
use crate::builtins::BuiltinVar;
use crate::codegen::insn::{helper, reg::*, Alu, Cond, Insn, Size};
use crate::types::Type;

impl Lower<'_> {
    /// r0 = `timestamp`: the clock read at the firing's first use and
    /// kept for the rest of it, so that every clause on the probe sees one
    /// time, as in DTrace.
    pub(crate) fn timestamp(&mut self) {
        let have = self.asm.label();
        self.asm
            .push(Insn::ldx(Size::DW, R0, FP, super::TIMESTAMP_SLOT));
        self.asm.jmp_imm(Cond::Ne, R0, 0, have);
        self.asm.push(Insn::call(helper::KTIME_GET_NS));
        self.asm
            .push(Insn::stx(Size::DW, FP, super::TIMESTAMP_SLOT, R0));
        self.asm.bind(have);
    }

    pub(super) fn builtin(&mut self, b: BuiltinVar, ty: &Type) -> R<()> {
        use BuiltinVar::*;
        match b {
            Pid | Tid => {
                self.asm.push(Insn::call(helper::GET_CURRENT_PID_TGID));
                if b == Pid {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
                } else {
                    self.asm.push(Insn::mov32_reg(R0, R0));
                }
            }
            Uid | Gid => {
                self.asm.push(Insn::call(helper::GET_CURRENT_UID_GID));
                if b == Gid {
                    self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 32));
                } else {
                    self.asm.push(Insn::mov32_reg(R0, R0));
                }
            }
            Cpu => self.asm.push(Insn::call(helper::GET_SMP_PROCESSOR_ID)),
            // The locality group is the CPU's NUMA node.
            Lgrp => self.asm.push(Insn::call(helper::GET_NUMA_NODE_ID)),
            Timestamp => self.timestamp(),
            Walltimestamp => {
                self.timestamp();
                self.asm.ld_map_value(R1, self.lay.globals, 0);
                self.asm.push(Insn::ldx(Size::DW, R1, R1, 0));
                self.asm.push(Insn::alu64_reg(Alu::Add, R0, R1));
            }
            Execname => {
                let t = self.str_temp()?;
                self.scratch_ptr(R1, t);
                self.asm.push(Insn::mov64_imm(R2, 16));
                self.asm.push(Insn::call(helper::GET_CURRENT_COMM));
                self.scratch_ptr(R0, t);
            }
            Zonename | Zoneid if self.target.netns.is_some() && self.lay.netns_zones.is_some() => {
                return self.zone_of_netns(b == Zonename, ty);
            }
            Zonename | Zoneid => {
                // A zone's processes are in the cgroup2 group
                // `lumen/UUID` (see the zones crate): read the task's
                // default-hierarchy cgroup from its task_struct, and if its
                // parent directory is `lumen`, the zone is its name (the
                // UUID, as SmartOS names zones) and its id the cgroup id.
                // In the kernel, so a zone booted a moment ago is named
                // right; host processes are the global zone.
                // Without the kernel's types there can be no zones: global.
                let offsets = (|| {
                    Some((
                        self.kmember("task_struct", "cgroups").ok()?,
                        self.kmember("css_set", "dfl_cgrp").ok()?,
                        self.kmember("cgroup", "kn").ok()?,
                        self.kmember("kernfs_node", "name").ok()?,
                        self.kmember("kernfs_node", "__parent")
                            .or_else(|_| self.kmember("kernfs_node", "parent"))
                            .ok()?,
                        self.kmember("kernfs_node", "id").ok()?,
                    ))
                })();
                let Some((cgroups, dfl, kn, name, parent, id)) = offsets else {
                    if b == Zonename {
                        let off = self.strtab.intern(b"global");
                        self.asm.ld_map_value(R0, self.lay.strings, off);
                        return Ok(());
                    }
                    self.asm.push(Insn::mov64_imm(R0, 0));
                    self.normalize(R0, ty);
                    return Ok(());
                };
                let global = self.asm.label();
                let done = self.asm.label();
                let ptr = crate::types::int(8, false);
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                for off in [cgroups, dfl, kn] {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, off as i32));
                    self.read_kernel(&ptr)?;
                    self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                }
                let node = self.spill(R0)?;
                // parent->name must be "lumen": its first 6 bytes, NUL included.
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, parent as i32));
                self.read_kernel(&ptr)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, name as i32));
                self.read_kernel(&ptr)?;
                self.asm.jmp_imm(Cond::Eq, R0, 0, global);
                self.read_kernel(&ptr)?;
                self.imm(R1, 0xffff_ffff_ffff);
                self.asm.push(Insn::alu64_reg(Alu::And, R0, R1));
                self.imm(R1, u64::from_le_bytes(*b"lumen\0\0\0"));
                self.asm.jmp_reg(Cond::Ne, R0, R1, global);
                self.asm.push(Insn::ldx(Size::DW, R0, FP, node));
                if b == Zonename {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, name as i32));
                    self.read_kernel(&ptr)?;
                    let t = self.str_temp()?;
                    self.asm.push(Insn::mov64_reg(R3, R0));
                    self.scratch_ptr(R1, t);
                    self.asm
                        .push(Insn::mov64_imm(R2, self.lay.strsize.min(64) as i32));
                    self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
                    self.scratch_ptr(R0, t);
                } else {
                    self.asm.push(Insn::alu64_imm(Alu::Add, R0, id as i32));
                    self.read_kernel(&ptr)?;
                    self.asm.push(Insn::alu64_imm(Alu::And, R0, 0x7fff_ffff));
                }
                self.asm.ja(done);
                self.asm.bind(global);
                if b == Zonename {
                    let off = self.strtab.intern(b"global");
                    self.asm.ld_map_value(R0, self.lay.strings, off);
                } else {
                    self.asm.push(Insn::mov64_imm(R0, 0));
                }
                self.asm.bind(done);
                self.stack -= 8; // node
                if b == Zonename {
                    return Ok(());
                }
            }
            Probeprov | Probemod | Probefunc | Probename => {
                let s = match b {
                    Probeprov => self.probe.provider.clone(),
                    Probemod => self.probe.module.clone(),
                    Probefunc => self.probe.function.clone(),
                    _ => self.probe.name.clone(),
                };
                let off = self.strtab.intern(s.as_bytes());
                self.asm.ld_map_value(R0, self.lay.strings, off);
            }
            Id => self.imm(R0, self.probe.id as u64),
            Epid => self.imm(R0, self.epid as u64),
            Curthread => self.asm.push(Insn::call(helper::GET_CURRENT_TASK)),
            Ppid => {
                let parent = self.kmember("task_struct", "real_parent")?;
                let tgid = self.kmember("task_struct", "tgid")?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, parent as i32));
                self.read_kernel(&crate::types::int(8, false))?;
                self.asm.push(Insn::alu64_imm(Alu::Add, R0, tgid as i32));
                self.read_kernel(&crate::types::int(4, true))?;
            }
            Vtimestamp => {
                // The task's CPU time so far (updated at ticks and switches).
                let se = self.kmember("task_struct", "se")?;
                let sum = self.kmember("sched_entity", "sum_exec_runtime")?;
                self.asm.push(Insn::call(helper::GET_CURRENT_TASK));
                self.asm
                    .push(Insn::alu64_imm(Alu::Add, R0, (se + sum) as i32));
                self.read_kernel(&crate::types::int(8, false))?;
            }
            Errno => match self.target.syscall_ret.clone() {
                Some(src) => {
                    self.arg(Some(src), &crate::types::int(8, true))?;
                    let done = self.asm.label();
                    self.asm.jmp_imm(Cond::Sge, R0, 0, done);
                    self.negate(R0);
                    let end = self.asm.label();
                    self.asm.ja(end);
                    self.asm.bind(done);
                    self.asm.push(Insn::mov64_imm(R0, 0));
                    self.asm.bind(end);
                }
                None => self.asm.push(Insn::mov64_imm(R0, 0)),
            },
            Arg(n) => {
                let src = self.target.args.get(n as usize).cloned();
                return self.arg(src, ty);
            }
            Stackdepth | Ustackdepth => {
                // Bytes bpf_get_stack wrote, in frames; a failure is depth 0.
                let user = b == Ustackdepth;
                self.get_stack(user, 0)?;
                let ok = self.asm.label();
                self.asm.jmp_imm(Cond::Sge, R0, 0, ok);
                self.asm.push(Insn::mov64_imm(R0, 0));
                self.asm.bind(ok);
                self.asm.push(Insn::alu64_imm(Alu::Rsh, R0, 3));
            }
            Caller | Ucaller => {
                // The frame that called the probed code: the stack's
                // second program counter (0 when there is none).
                let user = b == Ucaller;
                self.get_stack(user, 0)?;
                let off = if user {
                    self.lay.ustack_off + 16
                } else {
                    self.lay.stack_off + 8
                };
                self.asm.push(Insn::ldx(Size::DW, R0, R9, off as i16));
            }
            other => {
                return Err(self.err(format!(
                    "built-in variable {} is not supported by code generation yet",
                    format!("{other:?}").to_lowercase()
                )))
            }
        }
        self.normalize(R0, ty);
        Ok(())
    }

    /// `zonename` (`name`) or `zoneid` of a probe of packets or sockets:
    /// the zone whose network namespace the probe's `struct net *` is,
    /// from the zones' pinned table (`probes::netns`); the global zone
    /// when the namespace is not a zone's.
    fn zone_of_netns(&mut self, name: bool, ty: &Type) -> R<()> {
        let (Some(ns), Some(map)) = (self.target.netns.clone(), self.lay.netns_zones) else {
            return Err(self.err("no network namespace for this probe"));
        };
        let cookie = self.kmember("net", "net_cookie")?;
        let global = self.asm.label();
        let done = self.asm.label();
        self.arg(Some(ns), &crate::types::int(8, false))?;
        self.asm.jmp_imm(Cond::Eq, R0, 0, global);
        self.asm.push(Insn::alu64_imm(Alu::Add, R0, cookie as i32));
        self.read_kernel(&crate::types::int(8, false))?;
        let key = self.spill(R0)?;
        self.asm.ld_map(R1, map);
        self.asm.push(Insn::mov64_reg(R2, FP));
        self.asm.push(Insn::alu64_imm(Alu::Add, R2, key as i32));
        self.asm.push(Insn::call(helper::MAP_LOOKUP_ELEM));
        self.stack -= 8;
        self.asm.jmp_imm(Cond::Eq, R0, 0, global);
        if name {
            // The entry: u64 zoneid, then the name.
            let t = self.str_temp()?;
            self.asm.push(Insn::mov64_reg(R3, R0));
            self.asm.push(Insn::alu64_imm(Alu::Add, R3, 8));
            self.scratch_ptr(R1, t);
            let n = (self.lay.strsize as usize).min(probes::netns::NAME_LEN) as i32;
            self.asm.push(Insn::mov64_imm(R2, n));
            self.asm.push(Insn::call(helper::PROBE_READ_KERNEL_STR));
            self.scratch_ptr(R0, t);
        } else {
            self.asm.push(Insn::ldx(Size::DW, R0, R0, 0));
            self.asm.push(Insn::alu64_imm(Alu::And, R0, 0x7fff_ffff));
        }
        self.asm.ja(done);
        self.asm.bind(global);
        if name {
            let off = self.strtab.intern(b"global");
            self.asm.ld_map_value(R0, self.lay.strings, off);
        } else {
            self.asm.push(Insn::mov64_imm(R0, 0));
        }
        self.asm.bind(done);
        if !name {
            self.normalize(R0, ty);
        }
        Ok(())
    }
}
