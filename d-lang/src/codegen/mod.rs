//! Code generation: the typed [`crate::ir::Program`] in, an [`Object`] out:
//! one eBPF program per enabled probe, the maps they share, and the record
//! descriptions the consumer needs to decode what they emit.
//!
//! Stages: [`layout`] assigns storage (maps, offsets in the per-CPU scratch
//! area, record fields); [`lower`] turns each probe's clauses into
//! instructions with symbolic labels through [`asm`]; [`disasm`] prints them
//! for `-S`. How a probe's context reads (`argN`, tracepoint fields) comes
//! from a [`target::TargetResolver`] the engine implements.
//!
//! Programs are verifier-friendly by construction: every map lookup is
//! null-checked, every variable-offset access is bounds-checked first,
//! strings and records live in a per-CPU scratch map (not the 512-byte
//! stack), and copies have constant sizes.

pub mod asm;
pub mod buckets;
pub mod disasm;
pub mod dispatch;
pub mod insn;
pub mod layout;
pub mod lower;
pub mod object;
pub mod target;

pub use object::*;
pub use target::{ArgSource, FieldOp, Filter, FilterCmp, ProbeTarget, ProgType, TargetResolver};

use crate::diag::Diagnostic;
use crate::ir::Program;

/// Tunables that change generated code (DTrace options).
#[derive(Debug, Clone)]
pub struct CodegenOptions {
    /// `strsize`: bytes of every string value.
    pub strsize: u32,
    /// `bufsize`: ring buffer bytes (rounded to a power of two).
    pub bufsize: u32,
    /// `dynvarsize`: bytes for associative arrays and thread-locals.
    pub dynvarsize: u64,
    /// `aggsize`: bytes for aggregations.
    pub aggsize: u64,
    /// `nspec`: number of speculation buffers.
    pub nspec: u32,
    /// `stackframes`: frames `stack()` records.
    pub stackframes: u32,
    /// `ustackframes`: frames `ustack()` records.
    pub ustackframes: u32,
    /// `scratchsize`: bytes `alloca()` and `copyin()` may hand out per
    /// probe firing (a multiple of 8).
    pub scratchsize: u32,
    /// Code for the user-space backend (rbpf): single-threaded, so no
    /// atomic instructions (the one difference; neither form uses cpu-v4
    /// instructions, which rbpf lacks). The kernel accepts portable code too.
    pub portable: bool,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            strsize: 256,
            bufsize: 4 << 20,
            dynvarsize: 1 << 20,
            aggsize: 4 << 20,
            nspec: 1,
            stackframes: 20,
            ustackframes: 100,
            scratchsize: 256,
            portable: false,
        }
    }
}

/// Generate eBPF for every probe the program enables.
pub fn generate(
    prog: &Program,
    targets: &dyn TargetResolver,
    opts: &CodegenOptions,
) -> Result<Object, Diagnostic> {
    let mut layout = layout::Layout::new(prog, opts)?;
    // Probes of packets and sockets name zones by network namespace.
    let by_netns = prog
        .clauses
        .iter()
        .flat_map(|c| &c.probes)
        .any(|p| targets.target(p).is_ok_and(|t| t.netns.is_some()));
    if by_netns {
        layout.add_netns_zones();
    }
    lower::lower_program(prog, &layout, targets, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ProbeInfo, StaticCatalog};
    use crate::compile;
    use crate::options::{CompileOptions, Origin};

    /// Targets shaped like the engine's: syscall args at 16 + 8n of the
    /// tracepoint record, BEGIN/END on uprobes, profile on perf events.
    struct FakeTargets;

    impl TargetResolver for FakeTargets {
        fn target(&self, p: &ProbeInfo) -> Result<ProbeTarget, String> {
            Ok(match p.provider.as_str() {
                "dtrace" => ProbeTarget {
                    prog_type: ProgType::Uprobe,
                    args: vec![],
                    typed_args: None,
                    filters: vec![],
                    syscall_ret: None,
                    function_entry: false,
                    netns: None,
                },
                "profile" => ProbeTarget {
                    prog_type: ProgType::PerfEvent,
                    args: vec![
                        ArgSource::PerfPc { user: false },
                        ArgSource::PerfPc { user: true },
                    ],
                    typed_args: None,
                    filters: vec![],
                    syscall_ret: None,
                    function_entry: false,
                    netns: None,
                },
                _ => ProbeTarget {
                    prog_type: ProgType::Tracepoint,
                    args: (0..6)
                        .map(|i| ArgSource::CtxField {
                            offset: 16 + 8 * i,
                            size: 8,
                            signed: false,
                        })
                        .collect(),
                    typed_args: None,
                    filters: vec![],
                    syscall_ret: None,
                    function_entry: false,
                    netns: None,
                },
            })
        }
    }

    fn gen(src: &str) -> Result<Object, Diagnostic> {
        let prog = compile(
            src,
            &CompileOptions::new(Origin::File("t.d".into())),
            &StaticCatalog::sample(),
        )
        .expect("compiles");
        generate(&prog, &FakeTargets, &CodegenOptions::default())
    }

    #[test]
    fn one_program_per_probe_with_clauses_in_order() {
        let o = gen("BEGIN { trace(1); } syscall::read:entry { @[pid] = count(); } BEGIN { printf(\"%s\", execname); }")
            .unwrap();
        assert_eq!(o.programs.len(), 2);
        assert_eq!(o.programs[0].epids, vec![1, 3]);
        assert_eq!(o.enablings.len(), 3);
        assert_eq!(o.enablings[0].actions[0].kind, RecordKind::Trace);
        assert_eq!(
            o.enablings[2].actions[0].fields[0].kind,
            FieldKind::Str { size: 256 }
        );
        assert_eq!(o.aggs.len(), 1);
        let text = o.disassembly();
        assert!(text.contains("call ringbuf_output#130"), "{text}");
        assert!(text.contains("call get_current_pid_tgid#14"), "{text}");
    }

    /// The names the Prometheus export labels keys with: from the first
    /// use, `keyN` where a later clause keys the position differently.
    #[test]
    fn aggregation_key_names_reach_the_object() {
        let o = gen(
            "syscall::read:entry { @a[zonename, probefunc, args[0]] = count(); @b = count(); } \
             syscall::write:entry { @a[zonename, probename, args[0]] = count(); }",
        )
        .unwrap();
        assert_eq!(o.aggs[0].key_names, ["zonename", "key1", "args0"]);
        assert!(o.aggs[1].key_names.is_empty());
    }

    #[test]
    fn supported_examples_generate() {
        for src in [
            include_str!("../../../examples/hello.d"),
            include_str!("../../../examples/countdown.d"),
            include_str!("../../../examples/readlat-zone.d"),
            include_str!("../../../examples/syscall-count.d"),
            include_str!("../../../examples/thread-time.d"),
            include_str!("../../../examples/syscall-latency.d"),
            include_str!("../../../examples/printa-format.d"),
            include_str!("../../../examples/syscall-by-pid.d"),
            include_str!("../../../examples/opens.d"),
        ] {
            if let Err(e) = gen(src) {
                panic!("{}\n{src}", e.message);
            }
        }
    }

    #[test]
    fn unsupported_features_are_clear_errors() {
        let e = gen("BEGIN { trace(curlwpsinfo->pr_lwpid); }").unwrap_err();
        assert!(
            e.message.contains("not supported by code generation yet"),
            "{}",
            e.message
        );
    }
}
