//! Loading into the kernel: maps from their definitions, programs from eBPF instructions.
//!
//! In: what code generation produced: map definitions ([`MapDef`]) and, per
//! probe clause, a program type and its instructions, with map references
//! already patched to the fds of the maps created here (`ld_imm64` with
//! `src = BPF_PSEUDO_MAP_FD`). Out: kernel objects owned by Rust values
//! ([`BpfMap`], [`Program`]) that [`crate::attach`] hangs on probes and
//! close when dropped.
//!
//! Programs are loaded with `bpf(BPF_PROG_LOAD)` directly, not through
//! `aya::Ebpf::load` of an ELF: no ELF to build, no BTF parsing, ~1–3 ms a
//! program. A refused program comes back as [`LoadError::Verifier`] with the
//! verifier's log, for the caller to show under the D clause it came from.

use crate::sys::bpf::{self, ProgLoadError};
use crate::sys::SysError;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

pub use crate::sys::bpf::{BpfMap, MapDef, MapKind, ProgKind, UpdateFlags};

/// Why a map or program could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The kernel refused to create a map (memory, size limits, permissions).
    #[error("cannot create map {name}: {source}")]
    Map {
        /// The map's name.
        name: String,
        /// The failed call.
        #[source]
        source: SysError,
    },
    /// The instruction bytes are not a whole number of 8-byte instructions
    /// (a code generation bug).
    #[error("program {name}: {len} bytes of instructions is not a multiple of 8")]
    Truncated {
        /// The program's name.
        name: String,
        /// The byte length given.
        len: usize,
    },
    /// There were no instructions (a code generation bug).
    #[error("program {name} has no instructions")]
    Empty {
        /// The program's name.
        name: String,
    },
    /// The verifier (or the kernel) refused the program; the log says why.
    #[error("cannot load program {name}: {source}")]
    Verifier {
        /// The program's name.
        name: String,
        /// The failed call and the verifier log.
        #[source]
        source: ProgLoadError,
    },
}

impl LoadError {
    /// The verifier's log, when the verifier refused a program.
    pub fn verifier_log(&self) -> Option<&str> {
        match self {
            LoadError::Verifier { source, .. } => Some(&source.log),
            _ => None,
        }
    }
}

/// Create a map (`bpf(BPF_MAP_CREATE)`).
pub fn create_map(def: &MapDef) -> Result<BpfMap, LoadError> {
    BpfMap::create(def).map_err(|source| LoadError::Map {
        name: def.name.clone(),
        source,
    })
}

/// A program the verifier accepted: an fd, closed (and unloaded once no
/// probe holds it) on drop.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    kind: ProgKind,
    name: String,
    insn_count: usize,
    load_time: Duration,
}

impl Program {
    /// The program's type.
    pub fn kind(&self) -> ProgKind {
        self.kind
    }

    /// The name given at load (the kernel keeps its first 15 bytes).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of instructions loaded (an `ld_imm64` counts 2).
    pub fn insn_count(&self) -> usize {
        self.insn_count
    }

    /// How long `bpf(BPF_PROG_LOAD)` took, verification included.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Load a program of `kind` from instructions, one `struct bpf_insn` per
/// `u64`: opcode in bits 0–7, dst register 8–11, src register 12–15,
/// offset 16–31, immediate 32–63.
pub fn load_program(kind: ProgKind, name: &str, insns: &[u64]) -> Result<Program, LoadError> {
    if insns.is_empty() {
        return Err(LoadError::Empty { name: name.into() });
    }
    let start = Instant::now();
    let fd = bpf::prog_load(kind, name, insns).map_err(|source| LoadError::Verifier {
        name: name.into(),
        source,
    })?;
    Ok(Program {
        fd,
        kind,
        name: name.into(),
        insn_count: insns.len(),
        load_time: start.elapsed(),
    })
}

/// [`load_program`] from bytes: 8 a instruction, little-endian, as
/// `struct bpf_insn` lays them out (`code`, `dst:4|src:4`, `off` i16, `imm` i32).
pub fn load_program_bytes(kind: ProgKind, name: &str, bytes: &[u8]) -> Result<Program, LoadError> {
    if !bytes.len().is_multiple_of(8) {
        return Err(LoadError::Truncated {
            name: name.into(),
            len: bytes.len(),
        });
    }
    let insns = insns_from_bytes(bytes);
    load_program(kind, name, &insns)
}

/// 8-byte little-endian instructions to `u64`s (a trailing partial one is dropped).
pub fn insns_from_bytes(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_become_instructions_low_byte_first() {
        // mov64 r0, 7 ; exit
        let bytes = [0xb7, 0x00, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(insns_from_bytes(&bytes), vec![0x0000_0007_0000_00b7, 0x95]);
    }

    #[test]
    fn truncated_and_empty_programs_are_refused_before_the_kernel() {
        let err = load_program_bytes(ProgKind::Tracepoint, "t", &[0; 12]).unwrap_err();
        assert!(matches!(err, LoadError::Truncated { len: 12, .. }));
        let err = load_program(ProgKind::Tracepoint, "t", &[]).unwrap_err();
        assert!(matches!(err, LoadError::Empty { .. }));
    }
}
