//! The typed IR: codegen's only input.
//!
//! Everything here is resolved: variables are numbered slots of a known
//! scope and type, probe descriptions are the concrete probes they matched,
//! aggregations have one function and one key signature, and every
//! expression carries its D type. Codegen lowers it to eBPF directly.

use crate::catalog::ProbeInfo;

/// A compiled D program: one `-s` script or one `-n`-style argument.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Clauses in source order.
    pub clauses: Vec<Clause>,
    /// `#pragma D option` settings, in source order, already validated.
    pub options: Vec<PragmaOption>,
}

/// One `#pragma D option name[=value]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PragmaOption {
    /// Option name.
    pub name: String,
    /// Value as written, if any.
    pub value: Option<String>,
}

/// One probe clause: the probes it enables, its predicate and its actions.
#[derive(Debug, Clone)]
pub struct Clause {
    /// The concrete probes its descriptions matched, in ID order, no duplicates.
    pub probes: Vec<ProbeInfo>,
}

impl Program {
    /// How many probe enablings the program makes (DTrace's "matched N probes").
    pub fn matched_probes(&self) -> usize {
        self.clauses.iter().map(|c| c.probes.len()).sum()
    }
}

impl std::fmt::Display for Program {
    /// The `-S` intermediate form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, c) in self.clauses.iter().enumerate() {
            writeln!(f, "clause {i}: {} probes", c.probes.len())?;
        }
        Ok(())
    }
}
