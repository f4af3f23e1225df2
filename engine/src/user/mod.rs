//! The user-space backend: the bytecode code generation made for the
//! kernel, run in this process by the `rbpf` interpreter, with the maps,
//! helpers and ring buffer emulated ([`map`], [`helpers`]).
//!
//! It serves scripts whose probes fire in the consumer anyway — `BEGIN`,
//! `END`, `ERROR`, `tick-*`, `profile-*` — when the kernel refuses BPF or
//! `-x backend=user` asks for it, and it is the second opinion of the
//! differential tests: both backends must print the same bytes. It sits
//! beside [`crate::sys::bpf`]: [`crate::run::Instance`] makes either.
//!
//! The interpreter checks every load and store against the program's
//! stack, its context and the arenas of its maps, so a wrong program is an
//! error, not a crash. It emulates one CPU; programs are generated without
//! atomic instructions for it (`CodegenOptions::portable`).

pub mod helpers;
pub mod map;

use d_lang::codegen::insn::{PSEUDO_MAP_FD, PSEUDO_MAP_VALUE};
use d_lang::codegen::ProgramObj;
use map::UserMap;
use std::ops::Range;
use std::rc::Rc;

/// Why a program could not be prepared or run.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A map reference names no map, or an offset outside one.
    #[error("instruction {insn} refers to map {map}, which the program does not have")]
    BadMap {
        /// Instruction index.
        insn: usize,
        /// Map index.
        map: usize,
    },
    /// rbpf refused or stopped the program.
    #[error("user-space backend: {0}")]
    Vm(String),
}

/// A program relocated against user maps.
pub struct UserProgram {
    code: Vec<u8>,
    memory: Vec<Range<u64>>,
}

impl UserProgram {
    /// Relocate `prog`: map references become the addresses of `maps`.
    pub fn new(prog: &ProgramObj, maps: &[Rc<UserMap>]) -> Result<UserProgram, UserError> {
        let mut insns = prog.insns.clone();
        for r in &prog.relocs {
            let bad = || UserError::BadMap {
                insn: r.insn,
                map: r.map,
            };
            let map = maps.get(r.map).ok_or_else(bad)?;
            let src = insns.get(r.insn).ok_or_else(bad)?.src;
            let addr = match src {
                PSEUDO_MAP_FD => helpers::map_addr(map),
                PSEUDO_MAP_VALUE => {
                    let off = insns.get(r.insn + 1).ok_or_else(bad)?.imm as u32;
                    map.value_addr(off).ok_or_else(bad)?
                }
                _ => return Err(bad()),
            };
            if r.insn + 1 >= insns.len() {
                return Err(bad());
            }
            insns[r.insn].src = 0;
            insns[r.insn].imm = addr as u32 as i32;
            insns[r.insn + 1].imm = (addr >> 32) as u32 as i32;
        }
        Ok(UserProgram {
            code: insns.iter().flat_map(|i| i.to_bytes()).collect(),
            memory: maps.iter().map(|m| m.arena_range()).collect(),
        })
    }

    /// Run once with `ctx` as the program's context.
    pub fn run(&self, ctx: &mut [u8]) -> Result<u64, UserError> {
        let vm_err = |e: std::io::Error| UserError::Vm(e.to_string());
        let mut vm = rbpf::EbpfVmRaw::new(Some(&self.code)).map_err(vm_err)?;
        for (id, f) in helpers::all() {
            vm.register_helper(id, f).map_err(vm_err)?;
        }
        for r in &self.memory {
            vm.register_allowed_memory(r.clone());
        }
        // rbpf is not ours: should it panic on some input, report an error
        // rather than take the consumer down.
        let run =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.execute_program(ctx)));
        match run {
            Ok(r) => r.map_err(vm_err),
            Err(_) => Err(UserError::Vm(
                "the interpreter failed on this program".into(),
            )),
        }
    }
}
